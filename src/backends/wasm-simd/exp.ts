import { Code, I32, V128, type WasmFunction } from './wasm-binary.js';

/**
 * exp(x) of float32 as tfjs-backend-wasm's Exp kernel computes it: its C library's expf (musl's,
 * from Arm's optimized routines), evaluated in float64: x·32/ln 2 = k + r, exp(x) = 2^(k/32) ·
 * (1 + C2·r + C1·r² + C0·r³), 2^(k/32) from a table of 32 entries and k's integer part added to the
 * entry's exponent bits, one rounding to float32 at the end. The SIMD kernel below and expFloat32
 * run the same float64 operations in the same order, so the same values bit for bit (checked
 * against tfjs's kernel on every length in test/backends/exp.test.ts). The constants are the
 * routine's published ones; the table is computed here: each entry the float64 nearest 2^(i/32),
 * found exactly with integers.
 */
const TABLE_BITS = 5;
const ENTRIES = 1 << TABLE_BITS;
const INV_LN2_SCALED = hexFloat('171547652b82fe', 0) * ENTRIES;
const SHIFT = 1.5 * 2 ** 52;
/** The cubic's coefficients of r³, r² and r, scaled for r in units of ln 2 / 32. */
const POLY = [hexFloat('1c6af84b912394', -5) / ENTRIES ** 3, hexFloat('1ebfce50fac4f3', -3) / ENTRIES ** 2, hexFloat('162e42ff0c52d6', -1) / ENTRIES] as const;
/** Past these, exp overflows to Infinity (log 2¹²⁸) or underflows to 0 (log 2⁻¹⁵⁰) in float32. */
const OVERFLOW_FROM = hexFloat('162e42e', 6, 24);
const UNDERFLOW_BELOW = -hexFloat('19fe368', 6, 24);

/** 1.`digits` × 2^exponent, `digits` the hexadecimal fraction with its leading 1 (as C writes 0x1.…p…). */
function hexFloat(digits: string, exponent: number, bits = 4 * (digits.length - 1)): number {
  return Number(BigInt(`0x${digits}`)) * 2 ** (exponent - bits);
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The float64 nearest 2^(i/32): the one whose neighbouring midpoints' 32nd powers bracket 2^i, compared exactly in integers. */
function nearestPowerOfTwo(i: number): number {
  const guess = Math.pow(2, i / ENTRIES);
  for (const step of [0n, -1n, 1n]) {
    f64[0] = guess;
    u64[0] = u64[0]! + step;
    const bits = u64[0]!;
    const mantissa = (bits & ((1n << 52n) - 1n)) | (1n << 52n);
    const exponent = Number((bits >> 52n) & 0x7ffn) - 1075;
    // The midpoints (2m ∓ 1)·2^(e−1), raised to the 32nd power: X·2^(32(e−1)); 2^i as an integer at that scale.
    const scale = ENTRIES * (exponent - 1);
    const target = 1n << BigInt(i - scale);
    if ((2n * mantissa - 1n) ** 32n < target && target < (2n * mantissa + 1n) ** 32n) return f64[0]!;
  }
  throw new Error(`no float64 found nearest 2^(${i}/32)`);
}

/** The routine's table: entry i is the bits of 2^(i/32) less i << 47 (k's integer part is added back in). */
export const EXP_TABLE: readonly bigint[] = Array.from({ length: ENTRIES }, (_, i) => {
  f64[0] = nearestPowerOfTwo(i);
  return BigInt.asUintN(64, u64[0]! - (BigInt(i) << 47n));
});

/** Bytes EXP_TABLE takes in the heap, where the kernels read it (writeExpTable). */
export const EXP_TABLE_BYTES = 8 * ENTRIES;

/** EXP_TABLE written at byte `at` of `heap` (8-byte entries, little-endian as wasm reads them). */
export function writeExpTable(heap: ArrayBufferLike, at: number): void {
  new BigUint64Array(heap, at, ENTRIES).set(EXP_TABLE);
}

/** exp of one float32 as the kernel computes it: the elements past the last whole vector, and the tests' reference. */
export function expFloat32(value: number): number {
  const x = Math.fround(value);
  if (Number.isNaN(x)) return x;
  if (x > OVERFLOW_FROM) return Infinity;
  if (x < UNDERFLOW_BELOW) return 0;
  const z = INV_LN2_SCALED * x;
  const kd = z + SHIFT;
  f64[0] = kd;
  const ki = u64[0]!;
  const r = z - (kd - SHIFT);
  u64[0] = BigInt.asUintN(64, EXP_TABLE[Number(ki & BigInt(ENTRIES - 1))]! + (ki << BigInt(52 - TABLE_BITS)));
  const s = f64[0]!;
  return Math.fround(((POLY[0] * r + POLY[1]) * (r * r) + (POLY[2] * r + 1)) * s);
}

/** The locals expOf uses besides its input: four v128 and one i32. */
export interface ExpScratch {
  vectors: readonly [number, number, number, number];
  address: number;
}

/** v128 locals ExpScratch names. */
export const EXP_LOCALS = 4;

/**
 * Two lanes' result of the routine, still in float64, onto the stack: y·s as expFloat32 computes
 * it, from `xd` (the two lanes as float64; overwritten). `k` and `r` are scratch v128 locals,
 * `address` an i32 one; `table` the i32 local holding EXP_TABLE's byte offset.
 */
function twoLanes(code: Code, xd: number, [k, r]: readonly [number, number], address: number, table: number): Code {
  // z = x·32/ln 2 in xd; k = z + SHIFT, whose low bits are k's integer part; r = z − (k − SHIFT).
  code.get(xd).f64x2Const(INV_LN2_SCALED).f64x2Mul().set(xd);
  code.get(xd).f64x2Const(SHIFT).f64x2Add().set(k);
  code.get(xd).get(k).f64x2Const(SHIFT).f64x2Sub().f64x2Sub().set(r);
  // s = table[k mod 32] + (k << 47) in k: the two entries loaded by k's low 5 bits (lanes 0 and 2 as i32).
  const entry = (lane: number) => code.get(table).get(k).i32x4ExtractLane(2 * lane).i32(ENTRIES - 1).i32And().i32(3).i32Shl().i32Add();
  entry(0).v128Load64Zero().set(xd);
  entry(1).set(address);
  code.get(address).get(xd).v128Load64Lane(1).get(k).i32(52 - TABLE_BITS).i64x2Shl().i64x2Add().set(k);
  // ((C0·r + C1)·r² + (C2·r + 1))·s.
  code.get(r).f64x2Const(POLY[0]).f64x2Mul().f64x2Const(POLY[1]).f64x2Add();
  code.get(r).get(r).f64x2Mul().f64x2Mul();
  code.get(r).f64x2Const(POLY[2]).f64x2Mul().f64x2Const(1).f64x2Add().f64x2Add();
  return code.get(k).f64x2Mul();
}

/**
 * Emits exp of the float32x4 local `v` onto the stack (one v128), expFloat32's operations lane by
 * lane: the two low lanes, then the two high ones, in float64, each rounded once to float32; NaN
 * stays NaN, past the routine's bounds Infinity and 0. `table` is the i32 local holding
 * EXP_TABLE's byte offset.
 */
export function expOf(code: Code, v: number, { vectors: [xd, k, r, result], address }: ExpScratch, table: number): Code {
  code.get(v).f64x2PromoteLowF32x4().set(xd);
  twoLanes(code, xd, [k, r], address, table).f32x4DemoteF64x2Zero().set(result);
  code.get(v).get(v).shuffle32([2, 3, 0, 1]).f64x2PromoteLowF32x4().set(xd);
  code.get(result);
  twoLanes(code, xd, [k, r], address, table).f32x4DemoteF64x2Zero().shuffle32([0, 1, 4, 5]).set(result);
  // The routine's special cases: past its bounds Infinity and 0, NaN as x + x (NaN).
  code.f32x4Const(Infinity).get(result).get(v).f32x4Const(OVERFLOW_FROM).f32x4Gt().v128Bitselect().set(result);
  code.v128Zero().get(result).get(v).f32x4Const(UNDERFLOW_BELOW).f32x4Lt().v128Bitselect().set(result);
  return code.get(v).get(v).f32x4Add().get(result).get(v).get(v).f32x4Ne().v128Bitselect();
}

/** `expRows(x, y, vectors, table)`: y = exp(x) for `vectors` vectors of 4 float32 from byte x to byte y (x and y may be the same); EXP_TABLE at byte `table`. */
export function expRowsFunction(): WasmFunction {
  const [x, y, vectors, table] = [0, 1, 2, 3];
  const [address, v] = [4, 5];
  const body = new Code().loop((row) => {
    row.get(x).v128Load().set(v);
    row.get(y);
    expOf(row, v, { vectors: [6, 7, 8, 9], address }, table).v128Store();
    row.get(x).i32(16).i32Add().set(x);
    row.get(y).i32(16).i32Add().set(y);
    row.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
  });
  return { name: 'expRows', params: [I32, I32, I32, I32], locals: [I32, ...Array.from({ length: 1 + EXP_LOCALS }, (): typeof V128 => V128)], body };
}
