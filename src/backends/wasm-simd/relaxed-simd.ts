import { Code, I32, wasmModule } from './wasm-binary.js';

/**
 * Whether keras-bridge's SIMD product tiles multiply and add in one instruction: relaxed SIMD's
 * f32x4.relaxed_madd, which V8 compiles to x64's FMA3 (one rounding, and half the instructions of
 * a multiply and an add: the tiles' 2x16 product 34 → 44 GFLOP/s on one thread, measured on an
 * Intel Xeon). Chromium runs relaxed SIMD by default; Node 20's V8 has it behind
 * --experimental-wasm-relaxed-simd, which is set here, at run time, before the first module that
 * uses it is compiled. The V8 flag only adds opcodes: modules compiled before or without it run
 * the same.
 */
export type MultiplyAdd = 'fused' | 'separate';

/** `0` keeps the multiply and the add apart (two roundings, as before relaxed SIMD); `1`, `auto` or unset: fused where the runtime and the machine can. */
export const WASM_FMA_VARIABLE = 'KERAS_BRIDGE_WASM_FMA';

/** A message for a value of KERAS_BRIDGE_WASM_FMA that is none of the accepted ones; undefined for an accepted one. */
export function invalidWasmFmaSetting(env: Record<string, string | undefined> | undefined = nodeEnvironment()): string | undefined {
  const raw = env?.[WASM_FMA_VARIABLE];
  if (raw === undefined || ['', '0', '1', 'auto'].includes(raw.trim())) return undefined;
  return `${WASM_FMA_VARIABLE}=${JSON.stringify(raw)}: expected 0 (multiply and add apart), 1 or auto (fused where the machine can)`;
}

/**
 * probe(at): the four lanes at `at + 48` = relaxed_madd(a, b, c) of the vectors at `at`, `at + 16`
 * and `at + 32`.
 */
function probeModule(): Uint8Array<ArrayBuffer> {
  const body = new Code().get(0).get(0).v128Load(0).get(0).v128Load(16).get(0).v128Load(32).f32x4RelaxedMadd().v128Store(48);
  return wasmModule({ shared: false }, [{ name: 'probe', params: [I32], locals: [], body }]);
}

/**
 * A case whose two roundings and one differ: (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴, which float32 rounds
 * to 1 + 2⁻¹¹ (a tie, to even), so a separate multiply and add of -(1 + 2⁻¹¹) give 0 and a fused
 * one 2⁻²⁴.
 */
const PROBE = { a: 1 + 2 ** -12, b: 1 + 2 ** -12, c: -(1 + 2 ** -11), fused: 2 ** -24 };

/** Node's V8 flags module, where there is one (not in a browser page, nor in a bundle without `process`). */
function nodeV8(): { setFlagsFromString(flags: string): void } | undefined {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return node?.getBuiltinModule?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
}

export function nodeEnvironment(): Record<string, string | undefined> | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
}

let decided: MultiplyAdd | undefined;

/**
 * How the product tiles multiply and add in this process, decided once: 'fused' where
 * KERAS_BRIDGE_WASM_FMA is not 0, the runtime validates relaxed SIMD (after setting V8's flag in
 * Node) and relaxed_madd rounds once on this machine (a probe: V8 falls back to a multiply and an
 * add on a CPU without FMA3, and then the plain instructions, which every runtime runs alike, are
 * kept); else 'separate'.
 */
export function productMultiplyAdd(): MultiplyAdd {
  decided ??= decide();
  return decided;
}

function decide(): MultiplyAdd {
  const setting = nodeEnvironment()?.[WASM_FMA_VARIABLE]?.trim();
  if (setting === '0') return 'separate';
  const bytes = probeModule();
  if (!WebAssembly.validate(bytes)) {
    try {
      nodeV8()?.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      return 'separate';
    }
    if (!WebAssembly.validate(bytes)) return 'separate';
  }
  try {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const probe = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports['probe'] as (at: number) => void;
    const lanes = new Float32Array(memory.buffer, 0, 16);
    lanes.fill(PROBE.a, 0, 4).fill(PROBE.b, 4, 8).fill(PROBE.c, 8, 12);
    probe(0);
    return [...lanes.subarray(12)].every((lane) => lane === PROBE.fused) ? 'fused' : 'separate';
  } catch {
    return 'separate';
  }
}
