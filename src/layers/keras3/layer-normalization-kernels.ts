import tf from '#tfjs';
import { LAYER_NORM_INPUT_GRADIENT_KERNEL, LAYER_NORM_KERNEL, LAYER_NORM_STATISTICS_KERNEL, layerNormGradientInKernels } from '../../backends/kernel-fixes/heap-layer-norm.js';
import { tapeRecording } from '../../engine/tape-recording.js';
import { normalizeWithOperations } from '../../ops/layer-normalization.js';

/**
 * Layer normalization over the last axis in keras-bridge's kernels where the backend has them
 * (wasm: kernel-fixes/heap-layer-norm.ts), each giving the same values as normalizeWithOperations
 * and tfjs-core's gradients of it: outside a tape, KerasBridgeLayerNorm alone; under a tape, with
 * gamma, the same kernel paired with its gradient (layerNormWithGradient). Undefined elsewhere
 * (other axes and backends; under a tape without gamma): the operations run.
 */
export function normalizeInKernels(x: tf.Tensor, axes: readonly number[], epsilon: number, gamma: tf.Tensor | null, beta: tf.Tensor | null): tf.Tensor | undefined {
  const lastAxis = axes.length === 1 && (axes[0] === -1 || axes[0] === x.rank - 1);
  const recording = tapeRecording();
  if (!lastAxis || x.dtype !== 'float32' || recording === undefined || !tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend())) return undefined;
  if (recording) return gamma && layerNormGradientInKernels(x, gamma) ? layerNormWithGradient(x, epsilon, gamma, beta) : undefined;
  return tf.tidy(() => forwardKernel(x, epsilon, gamma, beta));
}

function forwardKernel(x: tf.Tensor, epsilon: number, gamma: tf.Tensor | null, beta: tf.Tensor | null): tf.Tensor {
  const columns = x.shape[x.rank - 1]!;
  const weights: Record<string, tf.Tensor> = {};
  if (gamma) weights['gamma'] = tf.reshape(gamma, [columns]);
  if (beta) weights['beta'] = tf.reshape(beta, [columns]);
  return tf.engine().runKernel(LAYER_NORM_KERNEL, { x, ...weights }, { epsilon }) as tf.Tensor;
}

/**
 * The gradients of x, gamma and beta for dy, as tfjs-core's backward pass through
 * normalizeWithOperations (with tfMoments) computes them, in two kernels and the row statistics'
 * few operations between them: KerasBridgeLayerNormStatistics (each row's mean, variance + ε and
 * r; the sums dnm = Σ dy·inv and dr = Σ dinv·gamma; s = dinv·r), then tfjs-core's own operations
 * on the rows' statistics (Neg and the zeros stop_gradient adds for the mean; Rsqrt's
 * gradient; Mean's), then KerasBridgeLayerNormInputGradient (dy·inv + dsq·((x − mean)·2) + dm);
 * gamma's and beta's gradients are tfjs-core's sums of s and dy over the rows.
 */
function gradientsInKernels(x: tf.Tensor, dy: tf.Tensor, epsilon: number, gamma: tf.Tensor): { dx: tf.Tensor; dgamma: tf.Tensor; dbeta: tf.Tensor } {
  const columns = x.shape[x.rank - 1]!;
  const outer = x.shape.slice(0, -1).map((_, axis) => axis);
  const gammaRow = tf.reshape(gamma, [columns]);
  const [s, statistics] = tf.engine().runKernel(LAYER_NORM_STATISTICS_KERNEL, { x, dy, gamma: gammaRow }, { epsilon }) as unknown as [tf.Tensor, tf.Tensor];
  // One value a row each, as [rows] vectors: tfjs-core's operations act on them as on its [.., 1]
  // statistics, element by element (the reshapes to and from that shape were 18 kernels a pass).
  const [mean, shifted, r, dnm, dr] = tf.unstack(statistics) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const dmean = tf.add(tf.neg(dnm), tf.zerosLike(dnm));
  const dshifted = tf.neg(tf.div(dr, tf.mul(tf.pow(shifted, 1.5), 2)));
  // Mean's gradient: (dy · 1) / C, the same for every column of a row.
  const terms = tf.stack([r, mean, tf.div(dshifted, columns), tf.div(dmean, columns)]);
  const dx = tf.engine().runKernel(LAYER_NORM_INPUT_GRADIENT_KERNEL, { x, dy, gamma: gammaRow, terms }) as tf.Tensor;
  return { dx, dgamma: tf.sum(s, outer), dbeta: tf.sum(dy, outer) };
}

/** KerasBridgeLayerNorm with gradientsInKernels as its gradient (a tape records only x, gamma and beta); a backward pass that is itself recorded (a second derivative) runs tfjs-core's gradients of the operations. */
function layerNormWithGradient(x: tf.Tensor, epsilon: number, gamma: tf.Tensor, beta: tf.Tensor | null): tf.Tensor {
  const inputs = beta ? [x, gamma, beta] : [x, gamma];
  const f = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, scale, center] = args as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    save([input, scale, ...(center ? [center] : [])]);
    return {
      value: forwardKernel(input, epsilon, scale, center ?? null),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [kept, keptScale, keptCenter] = saved as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        if (tapeRecording() !== false) {
          const operations = (a: tf.Tensor, g: tf.Tensor, b?: tf.Tensor) => normalizeWithOperations(a, [a.rank - 1], epsilon, g, b ?? null);
          return tf.grads(operations)(saved, dy);
        }
        const { dx, dgamma, dbeta } = gradientsInKernels(kept, dy, epsilon, keptScale);
        const grads = [dx, tf.reshape(dgamma, keptScale.shape)];
        if (keptCenter) grads.push(tf.reshape(dbeta, keptCenter.shape));
        else dbeta.dispose();
        return grads;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as unknown as (...ts: tf.Tensor[]) => tf.Tensor)(...inputs);
}
