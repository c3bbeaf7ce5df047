import tf from '#tfjs';
import type { HostCompute, HostTensor } from './host-kernel.js';

/**
 * Runs the cpu backend's kernel `kernelName` on host tensors: writes them into the cpu backend,
 * calls its kernel with the same attributes, reads the outputs back and frees what it wrote.
 * The result is what tfjs's cpu backend computes, bit for bit.
 */
export function cpuKernel(kernelName: string): HostCompute {
  return (inputs, attrs) => {
    const cpu = tf.findBackend('cpu') as tf.KernelBackend | null;
    const kernel = tf.getKernel(kernelName, 'cpu');
    if (!cpu || !kernel) throw new Error(`${kernelName}: the cpu backend (registered by @tensorflow/tfjs on import) or its ${kernelName} kernel is missing.`);
    const cpuInputs: Record<string, tf.TensorInfo> = {};
    for (const [name, t] of Object.entries(inputs)) cpuInputs[name] = { dataId: cpu.write(t.values, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    try {
      const result = kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs });
      const outputs = Array.isArray(result) ? result : [result];
      const read = outputs.map((out): HostTensor => ({ values: cpu.readSync(out.dataId), shape: out.shape, dtype: out.dtype }));
      for (const out of outputs) cpu.disposeData(out.dataId);
      return Array.isArray(result) ? read : read[0]!;
    } finally {
      for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId);
    }
  };
}
