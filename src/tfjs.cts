/**
 * `#tfjs` in Node (package.json "imports", its "node" condition): `@tensorflow/tfjs` loaded with
 * require, the same module as an import of it (Node's require cache), with its types, namespaces
 * and classes. Our modules write `import tf from '#tfjs'`, never `import * as tf from
 * '@tensorflow/tfjs'`: an ES import of tfjs's CommonJS bundle makes Node lex it, and every package
 * it re-exports (core, layers, converter, data, the cpu and WebGL backends), for their export
 * names, on every start: 247 ms against 106 ms through require (AMD EPYC, Node 20); a command's
 * start (`keras-bridge convert --help`) went from 0.48 to 0.36 s. Outside Node, tfjs-module.ts.
 */
import tf = require('@tensorflow/tfjs');
export = tf;
