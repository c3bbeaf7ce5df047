import tf from '#tfjs';

/** A tensor's values in JavaScript memory, as a host kernel reads and writes them. */
export interface HostTensor {
  values: tf.backend_util.BackendValues;
  shape: number[];
  dtype: tf.DataType;
}

/** Computes a kernel's outputs from its inputs (by input name) and attributes, in JavaScript. */
export type HostCompute = (inputs: Record<string, HostTensor>, attrs: tf.NamedAttrMap) => HostTensor | HostTensor[];

/** How many times each host kernel ran, by `backend/kernel` (the layer zoo checks that none runs on wasm). */
export const hostKernelCalls = new Map<string, number>();

/**
 * A kernel for `backendName` that copies its inputs out of the backend, runs `compute` on them
 * and writes the results back as tensors of that backend. Works for any backend with readSync
 * and write (cpu and wasm). The copies cost little next to the kernels this is used for.
 */
export function hostKernel(kernelName: string, backendName: string, compute: HostCompute): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const key = `${backendName}/${kernelName}`;
      hostKernelCalls.set(key, (hostKernelCalls.get(key) ?? 0) + 1);
      const target = backend as tf.KernelBackend;
      const host: Record<string, HostTensor> = {};
      for (const [name, info] of Object.entries(inputs)) {
        if (info) host[name] = { values: target.readSync(info.dataId), shape: info.shape, dtype: info.dtype };
      }
      const result = compute(host, attrs ?? {});
      const written = (Array.isArray(result) ? result : [result]).map((t) => ({
        dataId: target.write(t.values, t.shape, t.dtype),
        shape: t.shape,
        dtype: t.dtype,
      }));
      return Array.isArray(result) ? written : written[0]!;
    },
  };
}
