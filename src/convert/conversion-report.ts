/** What the converter did to one config field, so that nothing is dropped silently. */
export interface FieldNote {
  field: string;
  action: 'dropped' | 'changed';
  reason: string;
  from?: unknown;
  to?: unknown;
}

export interface LayerConversion {
  name: string;
  kerasClass: string;
  tfjsClass: string;
  /**
   * 'tfjs': a layer tfjs-layers implements (or keras-bridge adds to it); 'custom': a registered
   * TypeScript layer; 'operation': a Keras op on symbolic tensors (KerasOperation); 'model': a
   * model used as a layer, whose own layers are in `layers`.
   */
  mapping: 'tfjs' | 'custom' | 'operation' | 'model';
  layers?: LayerConversion[];
  notes: FieldNote[];
}

/** Plain data describing a conversion; printing it is report/'s job. */
export interface ConversionReport {
  source: string;
  model: string;
  kerasClass: string;
  layers: LayerConversion[];
  modelNotes: FieldNote[];
  weights: { count: number; bytes: number; shards: number };
}
