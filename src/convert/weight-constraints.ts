import tf from '#tfjs';
import { defaultTolerance } from '../parity/tolerance.js';
import type { ConstraintWarning } from './conversion-report.js';

const MEANING =
  'tfjs will load the constrained value; parity will show the difference; train or fix the weights in Keras, or drop the constraint';

/** A float32 Keras weight whose tfjs variable carries a constraint. */
export interface ConstrainedWeight {
  layer: string;
  /** The Keras weight path. */
  weight: string;
  constraint: NonNullable<tf.LayerVariable['constraint']>;
  shape: number[];
  values: Float32Array;
}

/**
 * tfjs-layers applies a weight's constraint (NonNeg, MaxNorm, UnitNorm, MinMaxNorm, or a custom
 * layer's) every time the weight is written, tf.loadLayersModel included (LayerVariable.write);
 * Keras applies it only after optimizer steps. A Keras weight that breaks its constraint (an
 * untrained model whose initializer ignores it) is therefore changed on load: this applies the
 * constraint to the Keras value and reports a weight it changes by more than float32's default
 * tolerance, with the largest change; undefined when it changes nothing beyond that.
 */
export function constraintWarning({ layer, weight, constraint, shape, values }: ConstrainedWeight): ConstraintWarning | undefined {
  const { atol, rtol } = defaultTolerance('float32');
  // Read outside tidy: tidy walks what its function returns for tensors to keep, element by element
  // for a typed array (about 170 ns each: seconds for a large weight).
  const constrainedTensor = tf.tidy(() => constraint.apply(tf.tensor(values, shape, 'float32')));
  const constrained = constrainedTensor.dataSync() as Float32Array;
  constrainedTensor.dispose();
  let maxChange = 0;
  let changed = 0;
  values.forEach((v, i) => {
    const change = Math.abs(constrained[i]! - v);
    maxChange = Math.max(maxChange, change);
    if (!(change <= atol + rtol * Math.abs(v))) changed++;
  });
  if (changed === 0) return undefined;
  const name = describeConstraint(constraint);
  return {
    layer,
    weight,
    constraint: name,
    maxChange,
    changedElements: changed,
    elements: values.length,
    message:
      `layer '${layer}', weight '${weight}': its Keras value breaks its constraint ${name} (tfjs applies it on load, Keras only after ` +
      `optimizer steps), which changes ${changed} of ${values.length} elements by up to ${maxChange.toPrecision(3)}: ${MEANING}.`,
  };
}

/** "NonNeg", "MaxNorm {maxValue: 2, axis: 0}". */
function describeConstraint(constraint: NonNullable<tf.LayerVariable['constraint']>): string {
  const config = Object.entries(constraint.getConfig()).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return config.length > 0 ? `${constraint.getClassName()} {${config.join(', ')}}` : constraint.getClassName();
}
