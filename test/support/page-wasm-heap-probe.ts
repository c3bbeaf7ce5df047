/** A page task (BrowserSession.runTask): what a wasm tensor too large for the heap does in the chromium-wasm page. */
import tf from '#tfjs';

export function wasmHeapInPage(): { error: string; message: string; stillComputes: number[] } {
  let error = 'none';
  let message = '';
  try {
    tf.fill([2 ** 30 - 1], 1);
  } catch (e) {
    error = (e as Error).name;
    message = (e as Error).message;
  }
  const stillComputes = tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync()));
  return { error, message, stillComputes };
}
