import type * as tf from '@tensorflow/tfjs';

const BYTES_PER_ELEMENT: Partial<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

/** One weight of a weights manifest, with its values when it is float32. */
interface NamedWeight {
  spec: tf.io.WeightsManifestEntry;
  bytes: Uint8Array;
}

/**
 * A model's weights as model.json lists them (name, shape, dtype) over their concatenated bytes,
 * editable by name: what a rewrite reads, replaces, adds and removes before the weights are
 * concatenated again in the same order.
 */
export class NamedWeights {
  private readonly weights: NamedWeight[] = [];

  /** Null when a weight's size cannot be known from its spec (strings, quantized weights): no rewrite then. */
  static read(specs: readonly tf.io.WeightsManifestEntry[], data: Uint8Array): NamedWeights | null {
    const named = new NamedWeights();
    let offset = 0;
    for (const spec of specs) {
      const bytesPerElement = BYTES_PER_ELEMENT[spec.dtype];
      if (bytesPerElement === undefined || spec.quantization) return null;
      const length = spec.shape.reduce((a, b) => a * b, 1) * bytesPerElement;
      if (offset + length > data.length) return null;
      named.weights.push({ spec, bytes: data.subarray(offset, offset + length) });
      offset += length;
    }
    return offset === data.length ? named : null;
  }

  has(name: string): boolean {
    return this.weights.some((w) => w.spec.name === name);
  }

  /** A float32 weight's values (a copy), or undefined when there is none of that name and dtype. */
  values(name: string): { shape: number[]; values: Float32Array } | undefined {
    const weight = this.weights.find((w) => w.spec.name === name);
    if (!weight || weight.spec.dtype !== 'float32') return undefined;
    const aligned = weight.bytes.slice();
    return { shape: [...weight.spec.shape], values: new Float32Array(aligned.buffer, 0, aligned.length / 4) };
  }

  /** Sets a float32 weight's values, adding it after `after` when it does not exist. */
  set(name: string, shape: number[], values: Float32Array, after?: string): void {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const existing = this.weights.find((w) => w.spec.name === name);
    if (existing) {
      existing.spec = { ...existing.spec, shape, dtype: 'float32' };
      existing.bytes = bytes;
      return;
    }
    const at = after === undefined ? this.weights.length : this.weights.findIndex((w) => w.spec.name === after) + 1;
    this.weights.splice(at === 0 ? this.weights.length : at, 0, { spec: { name, shape, dtype: 'float32' }, bytes });
  }

  remove(name: string): void {
    const at = this.weights.findIndex((w) => w.spec.name === name);
    if (at >= 0) this.weights.splice(at, 1);
  }

  specs(): tf.io.WeightsManifestEntry[] {
    return this.weights.map((w) => w.spec);
  }

  data(): Uint8Array {
    const out = new Uint8Array(this.weights.reduce((n, w) => n + w.bytes.length, 0));
    let offset = 0;
    for (const { bytes } of this.weights) {
      out.set(bytes, offset);
      offset += bytes.length;
    }
    return out;
  }
}
