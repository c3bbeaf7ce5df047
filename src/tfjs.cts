/**
 * `#tfjs`'s types (package.json "imports", its "types" condition): `@tensorflow/tfjs`, its types,
 * namespaces and classes. Our modules write `import tf from '#tfjs'`, never `import * as tf from
 * '@tensorflow/tfjs'`: an ES import of tfjs's CommonJS bundle makes Node lex it, and every package
 * it re-exports (core, layers, converter, data, the cpu and WebGL backends), for their export
 * names, on every start: 247 ms against 106 ms through require (AMD EPYC, Node 20); a command's
 * start (`keras-bridge convert --help`) went from 0.48 to 0.36 s. What Node loads is
 * tfjs-values.cts; browsers and bundlers, tfjs-module.ts.
 */
import tfjs = require('@tensorflow/tfjs');
export = tfjs;
