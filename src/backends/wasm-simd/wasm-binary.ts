/**
 * A writer of WebAssembly binary modules, just big enough for keras-bridge's own kernels on
 * tfjs-backend-wasm's heap (wasm-heap-kernels.ts): functions of i32 and v128 locals over one
 * imported memory, written instruction by instruction. The encoding is the WebAssembly core
 * specification's (sections, LEB128 integers) with the fixed-width SIMD proposal's 0xFD opcodes,
 * which Node 20 and Chromium run without flags, relaxed SIMD's multiply-add where the runtime has
 * it (relaxed-simd.ts), and bulk memory's copy and fill (older than SIMD in every runtime).
 */

/** Value types. */
export const I32 = 0x7f;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof V128;

/** Unsigned LEB128. */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`);
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128 of a 32-bit integer. */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an i32: ${value}`);
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

const vector = (items: number[][]): number[] => [...unsignedLeb128(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...new TextEncoder().encode(text)].map((b) => [b]));
const section = (id: number, content: number[]): number[] => [id, ...unsignedLeb128(content.length), ...content];

/** A v128 memory access's alignment hint: 4 bytes, which a Float32Array's elements always have. */
const V128_ALIGN_LOG2 = 2;

/**
 * One function body, instruction by instruction. Locals are numbered as WebAssembly numbers them:
 * the parameters first, then the declared locals. Each method returns `this`.
 */
export class Code {
  readonly bytes: number[] = [];

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(0xfd, ...unsignedLeb128(opcode), ...immediates);
  }

  get(local: number): this {
    return this.op(0x20, ...unsignedLeb128(local));
  }
  set(local: number): this {
    return this.op(0x21, ...unsignedLeb128(local));
  }
  tee(local: number): this {
    return this.op(0x22, ...unsignedLeb128(local));
  }
  i32(value: number): this {
    return this.op(0x41, ...signedLeb128(value));
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Or(): this {
    return this.op(0x72);
  }
  /** i32 from [address + offset]. */
  i32Load(offset = 0): this {
    return this.op(0x28, 0x02, ...unsignedLeb128(offset));
  }
  /** The first of two values if the i32 on top of the stack is not 0, else the second (stack: first, second, condition). */
  select(): this {
    return this.op(0x1b);
  }

  /** `block ... end` (a forward branch target) around what `body` writes. */
  block(body: (code: this) => void): this {
    this.op(0x02, 0x40);
    body(this);
    return this.op(0x0b);
  }
  /** `loop ... end` (a backward branch target) around what `body` writes. */
  loop(body: (code: this) => void): this {
    this.op(0x03, 0x40);
    body(this);
    return this.op(0x0b);
  }
  /** Branch to the `depth`-th enclosing block or loop if the i32 on the stack is not 0. */
  brIf(depth: number): this {
    return this.op(0x0d, ...unsignedLeb128(depth));
  }

  /** Copies n bytes from src to dst, the ranges overlapping or not (bulk memory's memory.copy; stack: dst, src, n). */
  memoryCopy(): this {
    return this.op(0xfc, ...unsignedLeb128(10), 0x00, 0x00);
  }
  /** Sets n bytes from dst to value's low byte (bulk memory's memory.fill; stack: dst, value, n). */
  memoryFill(): this {
    return this.op(0xfc, ...unsignedLeb128(11), 0x00);
  }

  /** f32 from [address + offset]. */
  f32Load(offset = 0): this {
    return this.op(0x2a, 0x02, ...unsignedLeb128(offset));
  }
  /** Four copies of the f32 on the stack. */
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** Four copies of the f32 at [address + offset] (v128.load32_splat: one broadcasting load on x64). */
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09, 0x02, ...unsignedLeb128(offset));
  }
  /** v128 from [address + offset]. */
  v128Load(offset = 0): this {
    return this.simd(0x00, V128_ALIGN_LOG2, ...unsignedLeb128(offset));
  }
  /** [address + offset] = value (stack: address, value). */
  v128Store(offset = 0): this {
    return this.simd(0x0b, V128_ALIGN_LOG2, ...unsignedLeb128(offset));
  }
  /** A v128 of four copies of the float32 `value`. */
  f32x4Const(value: number): this {
    const lane = [...new Uint8Array(new Float32Array([value]).buffer)];
    return this.simd(0x0c, ...lane, ...lane, ...lane, ...lane);
  }
  /** Lane by lane a < b: all ones or all zeros (false for NaN). */
  f32x4Lt(): this {
    return this.simd(0x43);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  /** a & ~b. */
  v128AndNot(): this {
    return this.simd(0x4f);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  /** Bits of a where the mask (on top of the stack) is 1, of b where it is 0 (stack: a, b, mask). */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  /** Lane by lane a == b: all ones or all zeros (false for NaN; -0 equals 0). */
  f32x4Eq(): this {
    return this.simd(0x41);
  }
  /** A v128 of zeros. */
  v128Zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  /** Lane by lane -a (the sign bit flipped: exact). */
  f32x4Neg(): this {
    return this.simd(0xe1);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /**
   * Relaxed SIMD's f32x4.relaxed_madd, a·b + c (stack: a, b, c): one rounding where the machine has
   * a fused multiply-add (x64's FMA3, Arm's FMLA), two elsewhere. Only in modules built when
   * relaxed-simd.ts says the runtime has it.
   */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  /** Lane by lane the smaller; NaN where either is NaN. */
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  /** Lane by lane the larger; NaN where either is NaN. */
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  /**
   * Lane by lane `b < a ? b : a` (stack: a, b): one x64 minps, where f32x4.min's NaN and signed-zero
   * rules take several instructions. The same as f32x4Min where b is a bound that is neither NaN
   * nor zero: a NaN a stays (the comparison fails), a -0 stays.
   */
  f32x4Pmin(): this {
    return this.simd(0xea);
  }
  /** Lane by lane `a < b ? b : a` (stack: a, b): one x64 maxps; the same as f32x4Max where b is a bound that is neither NaN nor zero. */
  f32x4Pmax(): this {
    return this.simd(0xeb);
  }
  /** Four copies of the i32 on the stack (a float32's bits, for a vector of that float). */
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  /** The unsigned i32 on the stack as the nearest f32. */
  f32ConvertI32U(): this {
    return this.op(0xb3);
  }
  /** Lane by lane the square root (IEEE, correctly rounded). */
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  /** The i32s on the stack ANDed. */
  i32And(): this {
    return this.op(0x71);
  }
  /** a << b for i32s (stack: a, b). */
  i32Shl(): this {
    return this.op(0x74);
  }
  /** Lane `lane` (0-3) of an i32x4 as an i32. */
  i32x4ExtractLane(lane: number): this {
    return this.simd(0x1b, lane);
  }
  /** Lane by lane a > b: all ones or all zeros (false for NaN). */
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  /** Lane by lane a != b: all ones or all zeros (true where either is NaN). */
  f32x4Ne(): this {
    return this.simd(0x42);
  }
  /** A v128 of two copies of the float64 `value`. */
  f64x2Const(value: number): this {
    const lane = [...new Uint8Array(new Float64Array([value]).buffer)];
    return this.simd(0x0c, ...lane, ...lane);
  }
  /** The two low float32 lanes as float64 (exact). */
  f64x2PromoteLowF32x4(): this {
    return this.simd(0x5f);
  }
  /** The two float64 lanes rounded to float32 (to nearest, even on a tie) in the low lanes, zeros above. */
  f32x4DemoteF64x2Zero(): this {
    return this.simd(0x5e);
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Sub(): this {
    return this.simd(0xf1);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
  /** Lane by lane a + b of 64-bit integers, modulo 2⁶⁴. */
  i64x2Add(): this {
    return this.simd(0xce);
  }
  /** Lane by lane a << (the i32 on top of the stack, modulo 64) of 64-bit integers. */
  i64x2Shl(): this {
    return this.simd(0xcb);
  }
  /** The 8 bytes at [address + offset] in the low lane, zeros in the high one (stack: address). */
  v128Load64Zero(offset = 0): this {
    return this.simd(0x5d, 0x03, ...unsignedLeb128(offset));
  }
  /** The vector with its 64-bit lane `lane` replaced by the 8 bytes at [address + offset] (stack: address, vector). */
  v128Load64Lane(lane: number, offset = 0): this {
    return this.simd(0x57, 0x03, ...unsignedLeb128(offset), lane);
  }
  /** i8x16.shuffle by 32-bit lanes: lane i of the result is lane `lanes[i]` of a (0-3) or of b (4-7). */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    if (lanes.some((lane) => !Number.isInteger(lane) || lane < 0 || lane > 7)) throw new RangeError(`32-bit lanes are 0 to 7: ${lanes.join(', ')}`);
    return this.simd(0x0d, ...lanes.flatMap((lane) => [4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3]));
  }
}

export interface WasmFunction {
  name: string;
  params: ValueType[];
  /** Locals after the parameters. */
  locals: ValueType[];
  body: Code;
}

/**
 * A module that imports its memory as `env.memory` (shared, as tfjs-backend-wasm's threaded build
 * makes it, or not) and exports `functions`, each returning nothing.
 */
export function wasmModule(memory: { shared: boolean }, functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = section(1, vector(functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), 0x00])));
  // Limits: a shared memory needs its maximum; wasm32 addresses 65536 pages.
  const limits = memory.shared ? [0x03, 0x00, ...unsignedLeb128(65536)] : [0x00, 0x00];
  const imports = section(2, vector([[...name('env'), ...name('memory'), 0x02, ...limits]]));
  const declarations = section(3, vector(functions.map((_, i) => unsignedLeb128(i))));
  const exports = section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...unsignedLeb128(i)])));
  const bodies = section(
    10,
    vector(
      functions.map((f) => {
        const locals = vector(f.locals.map((t) => [0x01, t]));
        const body = [...locals, ...f.body.bytes, 0x0b];
        return [...unsignedLeb128(body.length), ...body];
      }),
    ),
  );
  return new Uint8Array([...header, ...types, ...imports, ...declarations, ...exports, ...bodies]);
}
