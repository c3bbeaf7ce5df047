import type * as tf from '@tensorflow/tfjs';
import { KernelRunner } from './composed-kernel.js';

/** Tensors derived from each source tensor's data, by derivation name, per backend. */
const derivedByBackend = new WeakMap<tf.KernelBackend, Map<object, Map<string, tf.TensorInfo>>>();

/**
 * A tensor computed from `source` once (`derive`, on the backend's own kernels) and kept while
 * source's data lives: a kernel turned for a convolution's input gradient, say. A model's weights
 * keep their data from one pass to the next, and tfjs-backend-wasm keeps XNNPACK's operator, with
 * the weights packed for it, for each filter it has seen; a kernel turned anew on every call lost
 * both (3x3x512x512: 10 ms as a forward convolution, 34 ms with a new filter each call). Tensor data
 * does not change once written (a variable's update gives it new data), so the derivation holds until
 * the backend frees source's data, and is freed with it. `name` must say everything the derivation
 * depends on besides source's data, its shape included (a reshape shares its input's data).
 */
export function derivedTensor(backend: tf.KernelBackend, backendName: string, source: tf.TensorInfo, name: string, derive: (r: KernelRunner) => tf.TensorInfo): tf.TensorInfo {
  const bySource = derivationsOf(backend);
  let derived = bySource.get(source.dataId);
  const known = derived?.get(name);
  if (known) return known;
  const runner = new KernelRunner(backend, backendName);
  let result: tf.TensorInfo;
  try {
    result = derive(runner);
  } catch (error) {
    runner.finish(undefined);
    throw error;
  }
  runner.finish(result);
  // A result that is source itself (a reshape may share its data) is not ours to free.
  if (result.dataId === source.dataId) return result;
  if (!derived) bySource.set(source.dataId, (derived = new Map()));
  derived.set(name, result);
  return result;
}

/** Sources a derivation was asked about once (derivedTensorIfRepeated), by data. */
const seenOnce = new WeakMap<object, Set<string>>();

/**
 * The derived tensor where it is kept already or `source` comes a second time, undefined the first
 * time. For a kernel that has a cheaper way without the derivation when it would serve only once
 * (the weights of a training step, new data each step).
 */
export function derivedTensorIfRepeated(backend: tf.KernelBackend, backendName: string, source: tf.TensorInfo, name: string, derive: (r: KernelRunner) => tf.TensorInfo): tf.TensorInfo | undefined {
  if (derivationsOf(backend).get(source.dataId)?.has(name)) return derivedTensor(backend, backendName, source, name, derive);
  const names = seenOnce.get(source.dataId);
  if (names?.has(name)) return derivedTensor(backend, backendName, source, name, derive);
  if (names) names.add(name);
  else seenOnce.set(source.dataId, new Set([name]));
  return undefined;
}

/**
 * Whether `source`'s data came here before under `name` (recorded now): a weight comes on every
 * step, a gradient's operand once. For a kernel whose library keeps its own derivation of a
 * repeated operand (XNNPACK packs a weight once per operator), and is slow with a new one.
 */
export function seenBefore(source: tf.TensorInfo, name: string): boolean {
  const names = seenOnce.get(source.dataId);
  if (names?.has(name)) return true;
  if (names) names.add(name);
  else seenOnce.set(source.dataId, new Set([name]));
  return false;
}

/** How many derived tensors a backend holds (tests check they go with their source). */
export function derivedTensorCount(backend: tf.KernelBackend): number {
  return [...(derivedByBackend.get(backend)?.values() ?? [])].reduce((count, derived) => count + derived.size, 0);
}

/** The backend's table of derived tensors; the first call makes it free them with their source. */
function derivationsOf(backend: tf.KernelBackend): Map<object, Map<string, tf.TensorInfo>> {
  let bySource = derivedByBackend.get(backend);
  if (bySource) return bySource;
  const table = (bySource = new Map());
  derivedByBackend.set(backend, table);
  const disposeData = backend.disposeData.bind(backend);
  // A derivation's own derivations (a turned kernel's Winograd transform) go with it.
  const release = (dataId: object) => {
    const derived = table.get(dataId);
    if (!derived) return;
    table.delete(dataId);
    for (const info of derived.values()) if (disposeData(info.dataId, true)) release(info.dataId);
  };
  // tfjs's backends return true once the data is gone (false while other references hold it).
  backend.disposeData = (dataId: object, force?: boolean): boolean => {
    const freed = disposeData(dataId, force);
    if (freed) release(dataId);
    return freed;
  };
  return table;
}
