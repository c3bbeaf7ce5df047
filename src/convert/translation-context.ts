import type { KerasBridgeError } from '../errors.js';
import type { RetraceRecord } from '../keras/bundle-manifest.js';
import type { FieldNote, LayerConversion } from './conversion-report.js';
import type { GraphFallback } from './graph-fallback-translation.js';

/** A layer the converter refuses, recorded instead of thrown when translating for `inspect`. */
export interface LayerFailure {
  /** The models the layer is nested in, outermost first (empty for the top-level model's layers). */
  path: string[];
  name: string;
  kerasClass: string;
  module: string | null;
  error: KerasBridgeError;
}

export interface TranslateOptions {
  /** When given, a layer that cannot be translated is recorded here and left out, not thrown. */
  failures?: LayerFailure[];
  /** The enclosing models' names, for `failures`. */
  path?: string[];
  /** A bundle's symbolic re-traces of custom layers, by layer name (retrace-translation.ts). */
  retraces?: ReadonlyMap<string, RetraceRecord>;
  /** A bundle's traced graphs of custom layers, by layer name (graph-fallback-translation.ts). */
  graphs?: ReadonlyMap<string, GraphFallback>;
  /** The classes this conversion generated from Python source (route 1, translated-layers.ts) and may use. */
  translatedClasses?: ReadonlySet<string>;
  /** Keras's names of each translated layer's sub-layers, by layer name (translated-layers.ts). */
  subLayerNames?: ReadonlyMap<string, Record<string, unknown>>;
}

/** Passed to every translator: where we are (for error messages) and a place to record notes. */
export class TranslationContext {
  readonly notes: FieldNote[] = [];
  /** For a model used as a layer: how each of its own layers was converted. */
  readonly nested: LayerConversion[] = [];

  constructor(
    /** The file the config came from, for error messages. */
    readonly source: string,
    readonly layerName: string,
    readonly options: TranslateOptions = {},
  ) {}

  dropped(field: string, reason: string, from?: unknown): void {
    this.notes.push({ field, action: 'dropped', reason, ...(from === undefined ? {} : { from }) });
  }

  changed(field: string, from: unknown, to: unknown, reason: string): void {
    this.notes.push({ field, action: 'changed', reason, from, to });
  }

  added(field: string, to: unknown, reason: string): void {
    this.notes.push({ field, action: 'added', reason, to });
  }

  /** "model.keras.json: layer 'dense', field 'activation'" */
  where(field?: string): string {
    return `${this.source}: layer '${this.layerName}'${field ? `, field '${field}'` : ''}`;
  }
}
