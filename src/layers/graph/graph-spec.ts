import type * as tf from '@tensorflow/tfjs';

/** One TensorFlow graph in tfjs GraphModel form: the GraphDef as JSON and its Const values. */
export interface GraphModelSpec {
  /** The GraphDef as tfjs-converter's model.json holds it (protobuf json_format, Const values cleared). */
  topology: Record<string, unknown>;
  /** The Const nodes' values, by node name, in weightData order. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Their bytes, base64. */
  weightData: string;
}

export interface GraphIo {
  /** Placeholder node name (inputs) or tensor name `node:0` (outputs). */
  name: string;
  /** Batch dimension null. */
  shape: Array<number | null>;
  dtype: string;
  /** An input passed to call() as a keyword argument: the name call() reads it under (tfjs's camelCase, `paddingMask`). */
  keyword?: string;
}

export interface GraphWeight {
  /** The Placeholder that this weight feeds. */
  input: string;
  /** The weight's Keras path below the layer (`kernel`, `dense/kernel`): tfjs names it `<layer>/<name>`. */
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  trainable: boolean;
}

/** Everything a KerasBridgeGraphLayer runs (docs/custom-layer-routes.md, route 3). */
export interface GraphLayerSpec {
  inputs: GraphIo[];
  outputs: GraphIo[];
  weights: GraphWeight[];
  /** The graph of call(training=False); `training` only where call(training=True) builds another. */
  graphs: { inference: GraphModelSpec; training?: GraphModelSpec };
}

/**
 * The spec travels in model.json as one base64 string: tfjs-layers camelCases every key and every
 * string value holding `_` in a layer config (`transpose_b`, `weight_0`), which would break the
 * GraphDef's names; base64 has no `_`. Browser-safe (atob/btoa, no Buffer).
 */
export function encodeSpec(spec: GraphLayerSpec): string {
  return bytesToBase64(new TextEncoder().encode(JSON.stringify(spec)));
}

export function decodeSpec(encoded: string): GraphLayerSpec {
  return JSON.parse(new TextDecoder().decode(base64ToBytes(encoded))) as GraphLayerSpec;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
