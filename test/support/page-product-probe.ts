/** A page task (BrowserSession.runTask): keras-bridge's SIMD products in the chromium-wasm page, on its kernel threads. */
import * as tf from '@tensorflow/tfjs';
import { simdProductCalls } from '../../src/backends/kernel-fixes/batch-mat-mul-composed.js';
import { wasmHeapKernels } from '../../src/backends/wasm-simd/wasm-heap-kernels.js';

export interface PageProducts {
  threads: number;
  helpersRunning: boolean;
  tiled: number;
  /** Elements that differ from float32 sums in depth order (0: bit for bit). */
  differing: number;
}

export async function productsInPage(): Promise<PageProducts> {
  const [batches, m, k, n] = [8, 64, 96, 80];
  const values = (count: number, phase: number) => Float32Array.from({ length: count }, (_, i) => Math.fround(Math.sin(i * 0.37 + phase) * 3));
  const a = values(batches * m * k, 1);
  const b = values(batches * k * n, 2);
  const expected = new Float32Array(batches * m * n);
  for (let p = 0; p < batches; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let t = 0; t < k; t++) sum = Math.fround(sum + Math.fround(a[(p * m + i) * k + t]! * b[(p * k + t) * n + j]!));
        expected[(p * m + i) * n + j] = sum;
      }
  const threads = wasmHeapKernels(tf.backend())?.threads();
  // Helpers start in the background in a page: products run on the main thread until they have.
  for (let wait = 0; wait < 100 && threads && !threads.helpersRunning(); wait++) {
    tf.tidy(() => tf.matMul(tf.tensor3d(a, [batches, m, k]), tf.tensor3d(b, [batches, k, n])).dataSync());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const before = simdProductCalls.count;
  let differing = 0;
  for (let run = 0; run < 5; run++) {
    const got = tf.tidy(() => tf.matMul(tf.tensor3d(a, [batches, m, k]), tf.tensor3d(b, [batches, k, n])).dataSync());
    got.forEach((v, i) => (differing += Object.is(v, expected[i]) ? 0 : 1));
  }
  return { threads: threads?.count ?? 0, helpersRunning: threads?.helpersRunning() ?? false, tiled: simdProductCalls.count - before, differing };
}
