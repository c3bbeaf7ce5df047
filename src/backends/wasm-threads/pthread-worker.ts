/**
 * The script each WebAssembly thread of the threaded wasm backend starts in (a worker_threads
 * Worker). tfjs-backend-wasm ships its Emscripten thread script only as a string
 * (`wasmWorkerContents`) that tfjs starts from a `blob:` URL, which Node's workers refuse. Here it
 * runs from this file instead: Emscripten's script has a Node branch that needs `require` and
 * `__filename` as globals, so they are put there before it is evaluated.
 *
 * What is evaluated is tfjs-backend-wasm's own code, from its installed package; nothing from a
 * model file ever reaches it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };

Object.assign(globalThis, { require, __filename: fileURLToPath(import.meta.url) });
// The string holds "\n" escapes that its template literal turned into line breaks inside string
// literals; tfjs escapes them again before making its blob, and so must we.
(0, eval)(wasmWorkerContents.replace(/\n/g, '\\n'));
