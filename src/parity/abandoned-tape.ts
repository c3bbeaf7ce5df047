import tf from '#tfjs';

/** What tfjs-core's engine keeps of a gradient pass (Engine.state, not in its public types). */
interface EngineState {
  state: { activeTape: Array<{ saved?: tf.Tensor[] }> | null; gradientDepth: number };
}

/**
 * tf.variableGrads that leaves no tensor behind when the backward pass throws. tfjs-core's engine
 * disposes the tensors its tape saved for the backward pass only once that pass completes; one that
 * throws (an operation tfjs cannot differentiate, which parity reports and goes on from) left them
 * alive, with the forward pass's result: 31 tensors per evaluation of a small dilated convolution,
 * measured by test/parity/no-leaks.test.ts.
 */
export function variableGradsReleasing(f: () => tf.Scalar, varList: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  try {
    return tf.tidy(() => tf.variableGrads(f, varList));
  } catch (e) {
    releaseAbandonedTape();
    throw e;
  }
}

/**
 * After a gradient pass threw outside any other (optimizer.minimize included): disposes what its
 * tape saved and drops the tape, as the engine does when a pass completes.
 */
export function releaseAbandonedTape(): void {
  const { state } = tf.engine() as unknown as EngineState;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const tensor of node.saved ?? []) tensor.dispose();
  state.activeTape = null;
}
