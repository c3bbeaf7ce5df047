import tf from '#tfjs';

/**
 * Reading a tensor's values gives JavaScript an ArrayBuffer that V8 frees only when it collects
 * the array, and V8 paces its full collections by the bytes such buffers hold: a loop that reads
 * 14 MB of gradients a pass (MobileNetV2) ran a full collection every third pass on the tensorflow
 * backend, 10-20% of its time (docs/performance.md, thirty-fifth session). Python frees the same
 * arrays by reference count as the loop drops them. `withReadValues` gives the same to JavaScript:
 * it reads, lets `use` look, and then frees the arrays that are the reader's own.
 *
 * Which arrays are the reader's own depends on the backend (READ_OWNERSHIP): on tensorflow a read
 * through the binding is a copy or the reader's own reference to TensorFlow's buffer, but a tensor
 * made from JavaScript values and not yet used returns those very values; on wasm every numeric
 * read is a copy out of wasm's memory; on cpu, webgl and webgpu a read is (or is cached as) the
 * tensor's own storage, so nothing is freed there. Freeing detaches the ArrayBuffer: its
 * length becomes 0, so an array kept past `use` reads as empty rather than as another tensor's
 * values.
 */

type ReadValue = Awaited<ReturnType<tf.Tensor['data']>>;

/** The tfjs-node and wasm backends' per-tensor records, as far as this file reads them (4.22). */
interface DataRecords {
  get(dataId: object): Record<string, unknown> | undefined;
}

/** Whether a read of `dataId` on `backend` returns an array that is the reader's alone. */
type OwnsRead = (backend: object, dataId: object) => boolean;

function records(backend: object, field: string): DataRecords | undefined {
  const value = (backend as Record<string, unknown>)[field];
  return typeof value === 'object' && value !== null && typeof (value as DataRecords).get === 'function' ? (value as DataRecords) : undefined;
}

const READ_OWNERSHIP: Readonly<Record<string, OwnsRead>> = {
  // NodeJSKernelBackend.readSync returns `values` while a tensor made from JavaScript still holds them.
  tensorflow: (backend, dataId) => {
    const record = records(backend, 'tensorMap')?.get(dataId);
    return record !== undefined && record['values'] == null;
  },
  // BackendWasm.readSync slices numbers out of wasm's memory; strings are its own arrays.
  wasm: (backend, dataId) => {
    const record = records(backend, 'dataIdMap')?.get(dataId);
    return record !== undefined && record['dtype'] !== 'string' && typeof record['memoryOffset'] === 'number';
  },
};

type Release = (buffers: ArrayBuffer[]) => number;

interface ReleasingBinding {
  releaseArrayBuffers?: Release;
}

/**
 * The way to detach buffers here: the tensorflow binding's releaseArrayBuffers
 * (scripts/binding-release-arrays.mjs) where that backend is up, else the standard
 * ArrayBuffer.prototype.transfer (V8 11.4: Node 21, Chromium 114), else none (V8 frees them when
 * it collects).
 */
function findRelease(): Release | undefined {
  // The engine's registry holds initialized backends only; tf.findBackend would start one.
  const registry = (tf.engine() as unknown as { registry?: Record<string, unknown> }).registry;
  const binding = (registry?.['tensorflow'] as { binding?: ReleasingBinding } | undefined)?.binding;
  if (typeof binding?.releaseArrayBuffers === 'function') return (buffers) => binding.releaseArrayBuffers!(buffers);
  const transfer = (ArrayBuffer.prototype as { transfer?: (this: ArrayBuffer, length: number) => ArrayBuffer }).transfer;
  if (typeof transfer !== 'function') return undefined;
  return (buffers) => {
    for (const buffer of buffers) transfer.call(buffer, 0);
    return buffers.length;
  };
}

/** Which of `tensors` a read on the active backend gives the reader its own array for. */
function ownedReads(tensors: readonly tf.Tensor[]): boolean[] {
  const owns = READ_OWNERSHIP[tf.getBackend()];
  if (!owns) return tensors.map(() => false);
  const backend = tf.backend() as object;
  return tensors.map((tensor) => !tensor.isDisposed && owns(backend, tensor.dataId));
}

/** Frees the arrays of `values` whose `owned` entry is true, where a way to free them exists: whole buffers only. */
function release(values: readonly ReadValue[], owned: readonly boolean[]): void {
  const buffers = new Set<ArrayBuffer>();
  values.forEach((value, i) => {
    if (!owned[i] || !ArrayBuffer.isView(value)) return;
    const { buffer } = value;
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength && buffer.byteLength > 0) buffers.add(buffer);
  });
  if (buffers.size > 0) findRelease()?.([...buffers]);
}

/**
 * Reads every tensor's values (`await tensor.data()`), calls `use` with them, and then frees the
 * arrays that were the reader's own: keep nothing of them past `use` (copy what you keep). The
 * tensors themselves are untouched. Returns what `use` returns.
 *
 *   const norms = await withReadValues(grads, (values) => values.map((v) => Math.sqrt((v as Float32Array).reduce((sum, e) => sum + e * e, 0))));
 */
export async function withReadValues<T>(tensors: readonly tf.Tensor[], use: (values: ReadValue[]) => T | Promise<T>): Promise<T> {
  const owned = ownedReads(tensors);
  const values = await Promise.all(tensors.map((tensor) => tensor.data()));
  try {
    return await use(values);
  } finally {
    release(values, owned);
  }
}

/** `withReadValues` with `dataSync()`, for synchronous code. */
export function withReadValuesSync<T>(tensors: readonly tf.Tensor[], use: (values: ReadValue[]) => T): T {
  const owned = ownedReads(tensors);
  const values = tensors.map((tensor) => tensor.dataSync() as ReadValue);
  try {
    return use(values);
  } finally {
    release(values, owned);
  }
}

