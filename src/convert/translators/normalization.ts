import type { KerasObject } from '../../keras/keras-object.js';
import '../../layers/keras3/batch-normalization.js';
import '../../layers/keras3/layer-normalization.js';
import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isFalse, translateFields, type FieldRule } from '../field-rules.js';
import { constraint, initializer, regularizer } from '../keras-objects.js';
import type { TranslationContext } from '../translation-context.js';
import { registerTranslator } from '../translator-registry.js';
import { to, weightFields } from '../class-translator.js';
import '../../layers/keras3/group-normalization.js';
import '../../layers/keras3/unit-normalization.js';
import '../../layers/keras3/rms-normalization.js';

// tfjs-layers' BatchNormalization and LayerNormalization compute what Keras 3 computes, but their
// gradients (tfjs-core's FusedBatchNorm gradient) crash without gamma or beta, and are not reduced
// over the other axes when BatchNormalization's axis is not the last one. Those configurations map
// to keras-bridge's KerasBatchNormalization / KerasLayerNormalization (src/layers/keras3), same weights.

/** Constraints act only after optimizer steps; tfjs-layers' LayerNormalization has no such option. */
const constraintOnlyInTraining: FieldRule = droppedAtDefault(
  () => true,
  'constraints only act after optimizer steps, and tfjs-layers has no constraint option here',
);

/** tfjs-layers' class, or keras-bridge's `Keras<name>` when tfjs's is wrong for `layer` (`why`: how). */
function normalizationClass(tfjsClass: string, why: string | undefined, context: TranslationContext): string {
  if (!why) return tfjsClass;
  const ours = `Keras${tfjsClass}`;
  context.changed('class_name', tfjsClass, ours, `tfjs-layers' ${tfjsClass} ${why}; keras-bridge's ${ours} computes what Keras does (same weights)`);
  return ours;
}

/** Where tfjs's gradients are wrong, as the reason normalizationClass gives. */
function cannotDifferentiate(broken: string | undefined): string | undefined {
  return broken && `cannot differentiate ${broken}, where keras-bridge's gradients are correct`;
}

function withoutGammaOrBeta(layer: KerasObject): string | undefined {
  if (layer.config['scale'] === false) return 'scale=False (no gamma)';
  if (layer.config['center'] === false) return 'center=False (no beta)';
  return undefined;
}

/** The rank of the layer's input, when Keras recorded it (build_config). */
function inputRank(layer: KerasObject): number | undefined {
  const shape = (layer.build_config as { input_shape?: unknown } | null | undefined)?.input_shape;
  return Array.isArray(shape) ? shape.length : undefined;
}

function notLastAxis(layer: KerasObject): string | undefined {
  const axis = layer.config['axis'] ?? -1;
  const rank = inputRank(layer);
  const last = axis === -1 || (rank !== undefined && axis === rank - 1);
  return last ? undefined : `axis=${JSON.stringify(axis)}, not the last axis`;
}

/** Keras 3 runs a frozen BatchNormalization as at inference whatever `training` says; tfjs-layers' does not. */
function frozen(layer: KerasObject): string | undefined {
  return layer.config['trainable'] === false ? 'uses batch statistics in training even when frozen (trainable=False), which Keras 3 does not' : undefined;
}

// Keras 3 and tfjs list the weights in the same order: gamma, beta, moving_mean, moving_variance.
// Both compute with the moving statistics at inference (training=false).

registerTranslator(['BatchNormalization'], (layer, context) => ({
  class_name: normalizationClass('BatchNormalization', cannotDifferentiate(withoutGammaOrBeta(layer) ?? notLastAxis(layer)) ?? frozen(layer), context),
  config: translateFields(
    layer.config,
    {
      ...baseLayerFields,
      axis: copy,
      momentum: copy,
      epsilon: copy,
      center: copy,
      scale: copy,
      beta_initializer: initializer,
      gamma_initializer: initializer,
      moving_mean_initializer: initializer,
      moving_variance_initializer: initializer,
      beta_regularizer: regularizer,
      gamma_regularizer: regularizer,
      beta_constraint: constraint,
      gamma_constraint: constraint,
      synchronized: droppedAtDefault(() => true, 'cross-replica statistics only matter when training on several devices'),
      renorm: droppedAtDefault(isFalse, 'batch renormalization is not converted'),
      renorm_clipping: droppedAtDefault(() => true, 'only used with renorm'),
      renorm_momentum: droppedAtDefault(() => true, 'only used with renorm'),
    },
    context,
  ),
}));

registerTranslator(['LayerNormalization'], (layer, context) => {
  const className = normalizationClass('LayerNormalization', cannotDifferentiate(withoutGammaOrBeta(layer)), context);
  const layerConstraint = className === 'LayerNormalization' ? constraintOnlyInTraining : constraint;
  return {
    class_name: className,
    config: translateFields(
      layer.config,
      {
        ...baseLayerFields,
        axis: copy,
        epsilon: copy,
        center: copy,
        scale: copy,
        // Keras 3's rms_scaling=True scales by rsqrt(variance + epsilon) without centering (and is
        // deprecated for RMSNormalization); neither class here computes that.
        rms_scaling: droppedAtDefault(isFalse, 'RMS scaling (x * rsqrt(var + epsilon) * gamma, no centering) is not converted; use RMSNormalization'),
        beta_initializer: initializer,
        gamma_initializer: initializer,
        beta_regularizer: regularizer,
        gamma_regularizer: regularizer,
        beta_constraint: layerConstraint,
        gamma_constraint: layerConstraint,
      },
      context,
    ),
  };
});

// Normalizations tfjs-layers lacks: keras-bridge's (src/layers/keras3).
registerTranslator(
  ['GroupNormalization'],
  to('KerasGroupNormalization', {
    groups: copy,
    axis: copy,
    epsilon: copy,
    center: copy,
    scale: copy,
    ...weightFields('beta'),
    ...weightFields('gamma'),
  }),
);

registerTranslator(['UnitNormalization'], to('KerasUnitNormalization', { axis: copy }));

registerTranslator(['RMSNormalization'], to('KerasRMSNormalization', { axis: copy, epsilon: copy }));
