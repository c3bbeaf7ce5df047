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
  /** 'tfjs': a layer tfjs-layers implements; 'custom': a registered TypeScript layer. */
  mapping: 'tfjs' | 'custom';
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
