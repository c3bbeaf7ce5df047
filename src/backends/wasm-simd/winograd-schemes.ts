/**
 * Winograd's minimal filtering F(m x m, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2015): each m x m block of a 3x3 convolution's outputs from the (m + 2)² block
 * of inputs under it, as (m + 2)² products where direct convolution takes 9·m². In matrices,
 *
 *   Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A
 *
 * (a cross-correlation, as TensorFlow's Conv2D is). The matrices come from the Toom-Cook
 * construction on m + 1 points and the point at infinity: Aᵀ evaluates at the points, G evaluates
 * the filter there (each row over Π(pᵢ - pⱼ)), Bᵀ's rows are the coefficients of Π(x - pⱼ) without
 * the point's own factor. The points set the rounding: F(4x4, 3x3) on 0, ±1, ½, -2 rounds with
 * about half the largest error of the textbook 0, ±1, ±2 (measured, docs/wasm-kernels.md).
 */
export interface WinogradScheme {
  /** `F(2x2, 3x3)`: for messages, and the key of a filter's kept transform. */
  name: string;
  /** A short name for the wasm functions' names: `F2`, `F4`. */
  id: string;
  /** m: the outputs a tile gives along each side. */
  outputTile: number;
  /** m + 2: the inputs a tile reads along each side. */
  inputTile: number;
  /** (m + 2)²: the transformed positions, the products per tile and channel pair. */
  positions: number;
  /** Bᵀ, (m + 2) x (m + 2), rows scaled to whole numbers (G's rows take the inverse scale). */
  inputTransform: number[][];
  /** G, (m + 2) x 3. */
  filterTransform: number[][];
  /** Aᵀ, m x (m + 2). */
  outputTransform: number[][];
}

/** Polynomial product, coefficients in ascending powers. */
function times(a: readonly number[], b: readonly number[]): number[] {
  const c = new Array<number>(a.length + b.length - 1).fill(0);
  a.forEach((x, i) => b.forEach((y, j) => (c[i + j]! += x * y)));
  return c;
}

/** The power of two that makes every coefficient a whole number (they are dyadic for points such as ½ and 2). */
function wholeScale(row: readonly number[]): number {
  for (let scale = 1; scale <= 1 << 20; scale *= 2) if (row.every((c) => Number.isInteger(c * scale))) return scale;
  throw new RangeError(`Winograd transform row ${row.join(', ')} is not dyadic`);
}

/** F(m x m, 3x3) on `points` (m + 1 distinct finite points) and infinity. */
export function toomCookScheme(outputTile: number, points: readonly number[]): WinogradScheme {
  const m = outputTile;
  const n = m + 2;
  if (points.length !== n - 1 || new Set(points).size !== points.length) throw new RangeError(`F(${m}x${m}, 3x3) takes ${n - 1} distinct points`);
  const inputTransform: number[][] = [];
  const filterTransform: number[][] = [];
  points.forEach((p, i) => {
    const others = points.filter((_, j) => j !== i);
    const product = others.reduce<number[]>((acc, q) => times(acc, [-q, 1]), [1]);
    const row = [...product, ...new Array<number>(n - product.length).fill(0)];
    const scale = wholeScale(row);
    const denominator = others.reduce((acc, q) => acc * (p - q), 1);
    inputTransform.push(row.map((c) => c * scale));
    filterTransform.push([1, p, p * p].map((c) => c / denominator / scale));
  });
  const infinity = points.reduce<number[]>((acc, q) => times(acc, [-q, 1]), [1]);
  const infinityScale = wholeScale(infinity);
  inputTransform.push(infinity.map((c) => c * infinityScale));
  filterTransform.push([0, 0, 1 / infinityScale]);
  // -0 from the products, as +0 (the generated code skips zeros either way; tests compare them).
  for (const row of [...inputTransform, ...filterTransform]) row.forEach((c, j) => (row[j] = c === 0 ? 0 : c));
  const outputTransform = Array.from({ length: m }, (_, k) => [...points.map((p) => p ** k), k === m - 1 ? 1 : 0]);
  return { name: `F(${m}x${m}, 3x3)`, id: `F${m}`, outputTile: m, inputTile: n, positions: n * n, inputTransform, filterTransform, outputTransform };
}

/** F(2x2, 3x3): 16 products per 4 outputs (2.25x fewer than direct), rounding close to direct convolution's. */
export const F2x2_3x3 = toomCookScheme(2, [0, 1, -1]);

/** F(4x4, 3x3): 36 products per 16 outputs (4x fewer than direct), with a few times F(2x2)'s rounding error. */
export const F4x4_3x3 = toomCookScheme(4, [0, 1, -1, 0.5, -2]);

export const WINOGRAD_SCHEMES: readonly WinogradScheme[] = [F2x2_3x3, F4x4_3x3];

/** Mᵀ. */
export function transposed(matrix: readonly (readonly number[])[]): number[][] {
  return matrix[0]!.map((_, j) => matrix.map((row) => row[j]!));
}
