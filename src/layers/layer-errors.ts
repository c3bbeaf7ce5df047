import { LayerFieldError, UnsupportedLayerFieldError } from '../errors.js';

/** A layer as its errors name it: its registered class and its name. */
export interface NamedLayer {
  readonly name: string;
  getClassName(): string;
}

/**
 * The errors a layer of ours throws about a config field or its input: exit 2, naming the layer
 * class, the layer and the field (Keras's snake_case name, or 'inputs'). A failed invariant of our
 * own code stays a plain Error (an internal error, exit 70).
 */
export function badField(layer: NamedLayer, field: string, detail: string): LayerFieldError {
  return new LayerFieldError(layer.getClassName(), layer.name, field, detail);
}

/** A valid Keras value of `field` that the layer does not support (yet). */
export function unsupportedField(layer: NamedLayer, field: string, detail: string): UnsupportedLayerFieldError {
  return new UnsupportedLayerFieldError(layer.getClassName(), layer.name, field, detail);
}
