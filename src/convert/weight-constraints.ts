import * as tf from '@tensorflow/tfjs';
import { unpackTensor } from '../keras/packed-tensor.js';
import { defaultTolerance } from '../parity/tolerance.js';
import type { ConstraintWarning } from './conversion-report.js';
import type { SourceWeight } from './weight-source.js';

/** A tfjs weight and the Keras weight whose value it will load (assign-weights.ts pairs them). */
export interface PairedWeight {
  layer: string;
  tfjs: tf.LayerVariable;
  keras: SourceWeight;
}

const MEANING =
  'tfjs will load the constrained value; parity will show the difference; train or fix the weights in Keras, or drop the constraint';

/**
 * tfjs-layers applies a weight's constraint (NonNeg, MaxNorm, UnitNorm, MinMaxNorm, or a custom
 * layer's) every time the weight is written, tf.loadLayersModel included (LayerVariable.write);
 * Keras applies it only after optimizer steps. A Keras weight that breaks its constraint (an
 * untrained model whose initializer ignores it) is therefore changed on load: this applies each
 * constraint to the Keras value and reports every weight it changes by more than float32's
 * default tolerance, with the largest change.
 */
export function constraintWarnings(paired: readonly PairedWeight[]): ConstraintWarning[] {
  const warnings: ConstraintWarning[] = [];
  const { atol, rtol } = defaultTolerance('float32');
  for (const { layer, tfjs, keras } of paired) {
    const constraint = tfjs.constraint;
    if (!constraint || keras.dtype !== 'float32') continue;
    const values = unpackTensor(keras.bytes, { shape: keras.shape, dtype: 'float32', offset: 0, byte_length: keras.bytes.length }).values as Float32Array;
    const constrained = tf.tidy(() => constraint.apply(tf.tensor(values, keras.shape, 'float32')).dataSync() as Float32Array);
    let maxChange = 0;
    let changed = 0;
    values.forEach((v, i) => {
      const change = Math.abs(constrained[i]! - v);
      maxChange = Math.max(maxChange, change);
      if (!(change <= atol + rtol * Math.abs(v))) changed++;
    });
    if (changed === 0) continue;
    const name = describeConstraint(constraint);
    warnings.push({
      layer,
      weight: keras.path,
      constraint: name,
      maxChange,
      changedElements: changed,
      elements: values.length,
      message:
        `layer '${layer}', weight '${keras.path}': its Keras value breaks its constraint ${name} (tfjs applies it on load, Keras only after ` +
        `optimizer steps), which changes ${changed} of ${values.length} elements by up to ${maxChange.toPrecision(3)}: ${MEANING}.`,
    });
  }
  return warnings;
}

/** "NonNeg", "MaxNorm {maxValue: 2, axis: 0}". */
function describeConstraint(constraint: NonNullable<tf.LayerVariable['constraint']>): string {
  const config = Object.entries(constraint.getConfig()).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return config.length > 0 ? `${constraint.getClassName()} {${config.join(', ')}}` : constraint.getClassName();
}
