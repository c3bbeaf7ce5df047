/**
 * `#tfjs` in Node (package.json "imports", its "node" condition; its types are tfjs.cts's):
 * `@tensorflow/tfjs` loaded with require (the same module an import of it gets, from Node's require
 * cache), its exports copied as plain values, as an ES import of it sees them. The bundle
 * re-exports tfjs-core's and tfjs-layers' names through getters: one function call on every `tf.X`,
 * 0.09 ms of the Transformer block's 12 ms forward+backward pass at batch 1 (CPU profile).
 */
import tfjs = require('@tensorflow/tfjs');
const values: typeof tfjs = { ...tfjs };
export = values;
