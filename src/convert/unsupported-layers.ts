/**
 * Keras 3 layer classes keras-bridge does not convert, with why. Anything neither translated nor
 * listed here is "not converted yet".
 */
export const UNSUPPORTED_LAYER_REASONS: Record<string, string> = {
  Lambda: 'holds serialized Python code, which keras-bridge never executes; write a custom layer',
  TFSMLayer: 'wraps a TensorFlow SavedModel, not a Keras graph',
  JaxLayer: 'wraps JAX code',
  FlaxLayer: 'wraps Flax code',
  TorchModuleWrapper: 'wraps PyTorch code',
  Layer: 'the base class; subclasses are custom layers (registerLayer)',
  Wrapper: 'an abstract base class',
  Pipeline: 'a preprocessing pipeline; convert its layers',
  TextVectorization: 'string preprocessing; tfjs-layers has no string tensors in models',
  StringLookup: 'string preprocessing; tfjs-layers has no string tensors in models',
  IntegerLookup: 'vocabulary lookup tables are not part of tfjs-layers',
  Hashing: 'uses a hash function (FarmHash) tfjs does not implement',
  HashedCrossing: 'uses a hash function (FarmHash) tfjs does not implement',
  RandomCrop:
    'Keras 3.15.1 returns the image uncropped at inference while declaring the cropped shape (height, width): layers after it get a shape they were not built for (Flatten then Dense fails in Keras itself); not converted',
  RandomElasticTransform:
    "the identity at inference in Keras 3.15.1, but keras-bridge's exporter cannot record its training-mode draws (its call fails under python/keras_bridge/random_draws.py: Pack of shapes [1] and []), so no zoo model proves it; not converted yet",
  Equalization:
    "the identity at inference in Keras 3.15.1, but its call then returns the very input tensor (no cast), so the exporter's graph probe through it fails in Keras ('is part of a cycle') and no zoo model proves it; not converted yet",
  AutoContrast:
    'not an augmentation: Keras 3.15.1 stretches each image to its value_range at inference too (per-image, per-channel min/max rescale); no tfjs-layers counterpart, not converted',
  ContrastLimitedAdaptiveHistogramEqualization:
    'not the identity at inference: Keras 3.15.1 applies tiled, clip-limited histogram equalization in inference too; no tfjs-layers counterpart, not converted',
  MelSpectrogram: 'audio preprocessing without a tfjs-layers counterpart',
  STFTSpectrogram: 'audio preprocessing without a tfjs-layers counterpart',
};

/** Random augmentation layers not translated (translators/augmentation.ts converts those verified identity at inference). */
export const AUGMENTATION_PREFIXES = ['Random', 'AugMix', 'CutMix', 'MixUp', 'RandAugment'];

export function unsupportedReason(kerasClass: string): string | undefined {
  if (UNSUPPORTED_LAYER_REASONS[kerasClass]) return UNSUPPORTED_LAYER_REASONS[kerasClass];
  if (AUGMENTATION_PREFIXES.some((p) => kerasClass.startsWith(p))) {
    return 'data augmentation (identity at inference); not converted yet';
  }
  return undefined;
}
