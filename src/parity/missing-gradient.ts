import { variableGradsReleasing } from './abandoned-tape.js';
import tf from '#tfjs';
import type { Bundle } from '../keras/bundle.js';
import { UnsupportedLayerError } from '../errors.js';

/**
 * tfjs cannot differentiate some operations: it registers no gradient for some kernels (TopK,
 * ArgMax, Einsum, ... in 4.22: "gradient function not found for <kernel>"), and the gradients of
 * Conv2D, fused conv2d, Conv3D and DepthwiseConv2dNative assert dilation rates of 1. Neither error
 * says which layer ran the operation. Parity then compares everything but the gradients, and
 * reports them as not compared with `reason` (parity-result.ts, gradientsNotCompared).
 */
export class GradientUnavailableError extends UnsupportedLayerError {
  constructor(
    /** The operation, as tfjs names it: "TopK", "conv2D with dilation rates greater than 1". */
    readonly operation: string,
    /** The layers that run it, found by differentiating each alone; empty when none could be named. */
    readonly layers: string[],
    /** For reports: "tfjs has no gradient for the operation 'TopK', which layer 'top' (TopKPool) runs". */
    readonly reason: string,
    source: string,
  ) {
    super(
      `${source}: ${reason}, so gradients cannot be compared. Give that layer's call a gradient with tf.customGrad, ` +
        `or compute it with differentiable operations.`,
    );
  }
}

/**
 * The operation tfjs could not differentiate, from one of its backward-pass errors, or null for any
 * other error.
 */
export function undifferentiableOperation(error: unknown): string | null {
  const message = (error as Error)?.message ?? '';
  const missing = /gradient function not found for (\w+)/.exec(message)?.[1];
  if (missing) return missing;
  const dilated = /Error in gradient of ([\w ]+): dilation rates greater than 1/.exec(message)?.[1];
  return dilated ? `${dilated} with dilation rates greater than 1` : null;
}

/** "tfjs has no gradient for the operation 'TopK'" or "tfjs cannot differentiate conv2D with dilation rates greater than 1". */
export function describeUndifferentiable(operation: string): string {
  return operation.includes(' ') ? `tfjs cannot differentiate ${operation}` : `tfjs has no gradient for the operation '${operation}'`;
}

/**
 * Turns a backward-pass error on an operation tfjs cannot differentiate into a
 * GradientUnavailableError naming the layer(s) that run it, found by differentiating each layer
 * alone on zeros. Any other error is returned as is.
 */
export async function explainMissingGradient(error: unknown, model: tf.LayersModel, bundle: Bundle, training = false): Promise<unknown> {
  const operation = undifferentiableOperation(error);
  if (!operation) return error;
  const layers = layersNotDifferentiable(model, operation, training);
  const which =
    layers.length > 0
      ? `which layer ${layers.map((l) => `'${l.name}' (${l.getClassName()})`).join(', ')} runs`
      : 'which a layer of the model runs';
  return new GradientUnavailableError(operation, layers.map((l) => l.name), `${describeUndifferentiable(operation)}, ${which}`, bundle.dir);
}

/** The layers whose backward pass alone, on zeros, fails on `operation`. */
function layersNotDifferentiable(model: tf.LayersModel, operation: string, training: boolean): tf.layers.Layer[] {
  const found: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    const node = layer.inboundNodes[0] as unknown as { inputTensors: tf.SymbolicTensor[] } | undefined;
    if (!node || node.inputTensors.length === 0) continue;
    // Float inputs are differentiated; integer ones (indices) are fed as they are.
    // tf.variable shares its initial tensor's data; that tensor is let go once the variable holds it.
    const inputs = node.inputTensors.map((t) => (t.dtype === 'float32' ? tf.tidy(() => tf.variable(tf.zeros(t.shape.map((d) => d ?? 1)))) : tf.zeros(t.shape.map((d) => d ?? 1), t.dtype)));
    const variables = [...inputs.filter((x): x is tf.Variable => x instanceof tf.Variable), ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
    try {
      if (variables.length === 0) continue;
      const { value, grads } = variableGradsReleasing(() => {
        const out = layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training }) as tf.Tensor | tf.Tensor[];
        return tf.addN((Array.isArray(out) ? out : [out]).filter((o) => o.dtype === 'float32').map((o) => tf.sum(o))) as tf.Scalar;
      }, variables);
      tf.dispose([value, ...Object.values(grads)]);
    } catch (e) {
      if (undifferentiableOperation(e) === operation) found.push(layer);
    } finally {
      tf.dispose(inputs);
    }
  }
  return found;
}
