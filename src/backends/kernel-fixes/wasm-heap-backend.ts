import type * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-wasm's backend that keras-bridge's kernels working in its heap use
 * (not in its public types). Making an output may grow the heap, which detaches every view taken
 * before: make outputs first, then take views and offsets.
 */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** The tensor's data where it lies in the heap, typed by its dtype. */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
  /** Each tensor's data as written: its shape is the one it was made with (a reshape shares the data, not the shape). */
  dataIdMap?: { get(dataId: tf.DataId): { shape: number[] } | undefined };
}
