import { BackendUnavailableError } from '../backend-unavailable-error.js';

/**
 * How long XNNPACK's pool workers spin for the next operation before they sleep, in tfjs-backend-wasm's
 * threaded build. pthreadpool, as tfjs builds it, spins 1,000,000 times (2-4.5 ms measured on an
 * Emerald Rapids Xeon) after every operation. With as many threads as cores, that spinning worker
 * holds the core that keras-bridge's own kernel helper needs when the next operation runs in its
 * kernels (docs/wasm-kernels.md, "XNNPACK's idle spin"). keras-bridge rewrites that one constant in
 * the module it compiles; nothing else in tfjs's binary changes.
 */
export const POOL_SPIN_VARIABLE = 'KERAS_BRIDGE_WASM_POOL_SPIN';

/** The spin tfjs 4.22's build has. */
export const BUILT_POOL_SPIN = 1_000_000;

/**
 * About 30-40 µs here: long enough for XNNPACK's operations that follow each other to find their
 * workers awake (with no spin at all, ResNet50's forward pass at batch 1 took 160 ms instead of 116),
 * short enough to give the core back before keras-bridge's next kernel (101 ms).
 */
export const DEFAULT_POOL_SPIN = 10_000;

/** The spin asked for: KERAS_BRIDGE_WASM_POOL_SPIN, a whole number from 0 to 1,000,000 (or auto). */
export function requestedPoolSpin(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[POOL_SPIN_VARIABLE];
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'auto') return DEFAULT_POOL_SPIN;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value > BUILT_POOL_SPIN) {
    throw new BackendUnavailableError('wasm', `${POOL_SPIN_VARIABLE}=${JSON.stringify(raw)}: expected 'auto' or a whole number of spins from 0 to ${BUILT_POOL_SPIN}`);
  }
  return value;
}

const I32_CONST = 0x41;
const LOCAL_SET = 0x21;
const LOCAL_GET = 0x20;
const I32_AND = 0x71;
const I32_EQZ = 0x45;

/** The built spin as the three bytes of its signed LEB128 immediate. */
const BUILT_SPIN_BYTES = signedLeb3(BUILT_POOL_SPIN);

/**
 * An i32 from 0 to 2²⁰ - 1 as exactly three bytes of signed LEB128 (padded where it is shorter),
 * so that the code keeps its length and no offset in the module moves.
 */
function signedLeb3(value: number): [number, number, number] {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 20) throw new RangeError(`${value} does not fit three bytes of signed LEB128`);
  return [(value & 0x7f) | 0x80, ((value >> 7) & 0x7f) | 0x80, (value >> 14) & 0x3f];
}

/** Bytes of an unsigned LEB128 at `at` (a local's index), or 0 where none ends within five. */
function lebLength(bytes: Uint8Array, at: number): number {
  for (let length = 1; length <= 5 && at + length <= bytes.length; length++) if ((bytes[at + length - 1]! & 0x80) === 0) return length;
  return 0;
}

/**
 * Where the worker's wait for a new command sets its spin count: `i32.const 1000000; local.set n;
 * local.get f; i32.const 2; i32.and; i32.eqz`, the loop's count followed by its test of
 * PTHREADPOOL_FLAG_YIELD_WORKERS (2), which only that wait makes. The main thread's waits for its
 * workers spin as long but hold only the main thread, which waits anyway, so they stay.
 */
function workerSpinOffsets(binary: Uint8Array): number[] {
  const found: number[] = [];
  for (let at = 0; at + 4 < binary.length; at++) {
    if (binary[at] !== I32_CONST || binary[at + 1] !== BUILT_SPIN_BYTES[0] || binary[at + 2] !== BUILT_SPIN_BYTES[1] || binary[at + 3] !== BUILT_SPIN_BYTES[2]) continue;
    let next = at + 4;
    if (binary[next] !== LOCAL_SET) continue;
    const setLength = lebLength(binary, next + 1);
    if (!setLength) continue;
    next += 1 + setLength;
    if (binary[next] !== LOCAL_GET) continue;
    const getLength = lebLength(binary, next + 1);
    if (!getLength) continue;
    next += 1 + getLength;
    if (binary[next] === I32_CONST && binary[next + 1] === 0x02 && binary[next + 2] === I32_AND && binary[next + 3] === I32_EQZ) found.push(at + 1);
  }
  return found;
}

/**
 * A copy of tfjs-backend-wasm's threaded module whose pool workers spin `spins` times before they
 * sleep; undefined where the module is not the build this knows (its wait not found exactly once),
 * which then runs as built.
 */
export function withPoolSpin(binary: Uint8Array, spins: number): Uint8Array<ArrayBuffer> | undefined {
  const offsets = workerSpinOffsets(binary);
  if (offsets.length !== 1) return undefined;
  const copy = new Uint8Array(binary);
  copy.set(signedLeb3(spins), offsets[0]);
  return copy;
}
