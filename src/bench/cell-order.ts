/**
 * The order a model's backends are timed in: `tensorflow` first (its native and traced graphs
 * follow it), then the others as given. The tensorflow cells are the ones compared most closely with
 * Keras (the traced graph's target is 1.1x its tf.function), and Keras is timed just before the
 * model's cells: timed first, they are minutes nearer Keras's figures than after the slow backends,
 * and this machine's speed drifts by more than 10% over tens of minutes.
 */
export function timingOrder(backends: readonly string[]): string[] {
  return [...backends.filter((b) => b === 'tensorflow'), ...backends.filter((b) => b !== 'tensorflow')];
}
