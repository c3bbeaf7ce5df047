import type { KernelCall, KernelThreads } from '../../src/backends/wasm-simd/kernel-threads.js';

/**
 * Kernel threads over a test's own module (`own`: its exports by function index) whose chunks run
 * one after the other on the caller: `count` sets how a kernel cuts its work, so the cut alone is
 * under test.
 */
export function threadsInTurn(own: ReadonlyArray<(...args: number[]) => void>): (count: number) => KernelThreads {
  return (count) => ({ count, run: (chunks: readonly (readonly KernelCall[])[]) => chunks.forEach((chunk) => chunk.forEach((call) => own[call.fn]!(...call.args))) });
}
