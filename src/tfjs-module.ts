/**
 * `#tfjs` outside Node (package.json "imports", its "default" condition; its types are
 * tfjs.cts's): `@tensorflow/tfjs` as an ES module, its namespace the default export, for browsers
 * (an import map names this file: browser/browser-page.ts) and bundlers. Node takes
 * tfjs-values.cts.
 */
import * as tf from '@tensorflow/tfjs';
export default tf;
