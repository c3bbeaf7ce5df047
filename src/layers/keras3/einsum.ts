import tf from '#tfjs';
import { reshaped } from '../../ops/reshaped.js';
import { replacedKernel } from '../../backends/kernel-fixes/index.js';

/**
 * A two-operand einsum ('abc,cde->abde', '...b,bc->...c') built from transpose, reshape and
 * batched matMul, as TensorFlow evaluates one. tfjs's tf.einsum has no gradient and no wasm
 * kernel; these ops have both. Labels in one operand only and not in the output are summed
 * first; labels in both operands and the output are batch axes; labels in both operands only
 * are contracted. A label may appear once per operand. With `bias`, einsum(...) + bias (an
 * EinsumDense's), broadcast as tf.add broadcasts it.
 */
export function einsum(equation: string, a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const plan = einsumPlan(equation, a.shape, b.shape, bias?.shape);
  // Copies of the plan's arrays: tfjs keeps what it is given (a kernel's attributes, on the tape).
  const x = plan.sumA.length > 0 ? tf.sum(a, [...plan.sumA]) : a;
  const y = plan.sumB.length > 0 ? tf.sum(b, [...plan.sumB]) : b;
  const lhs = reshaped(plan.arrangeA ? tf.transpose(x, [...plan.arrangeA]) : x, [...plan.lhsShape]);
  const rhs = reshaped(plan.arrangeB ? tf.transpose(y, [...plan.arrangeB]) : y, [...plan.rhsShape]);
  const inProduct = plan.columnBias === 'row' || (plan.columnBias === 'reshaped' && reshapedBiasFuses());
  const sums = inProduct ? tf.fused.matMul({ a: lhs, b: rhs, bias: plan.columnBias === 'row' ? bias! : reshaped(bias!, [bias!.size]) }) : tf.matMul(lhs, rhs);
  const ordered = reshaped(sums, [...plan.productShape]);
  const result = plan.arrangeOutput ? tf.transpose(ordered, [...plan.arrangeOutput]) : ordered;
  return bias && !inProduct ? tf.add(result, bias) : result;
}

/**
 * Whether the backend's fused product takes a bias reshaped to one row: every backend but
 * tfjs-backend-wasm, whose kernel reads a bias's rank from its data (which a reshape shares) and
 * refuses one above rank 1; there, only with keras-bridge's fused product registered
 * (registerKernelFixes('wasm'): fused-mat-mul-tiles.ts adds such a bias itself).
 */
function reshapedBiasFuses(): boolean {
  return tf.getBackend() !== 'wasm' || replacedKernel('_FusedMatMul', 'wasm') !== undefined;
}

/** What einsum() does for an equation and operand shapes: the axes summed out, the transposes (null where none), the shapes of the product. */
interface EinsumPlan {
  sumA: number[];
  sumB: number[];
  arrangeA: number[] | null;
  arrangeB: number[] | null;
  lhsShape: number[];
  rhsShape: number[];
  productShape: number[];
  arrangeOutput: number[] | null;
  /** Whether the bias goes in the product's kernel (below): as it is ('row'), reshaped to one row ('reshaped'), or not (null). */
  columnBias: 'row' | 'reshaped' | null;
}

/** Plans by equation and shapes: a layer runs the same few on every call (parsing and planning them took 15 µs a call). */
const plans = new Map<string, EinsumPlan>();
const MAX_PLANS = 1024;

function einsumPlan(equation: string, aShape: readonly number[], bShape: readonly number[], biasShape: readonly number[] | undefined): EinsumPlan {
  const key = `${equation}|${aShape.join(',')}|${bShape.join(',')}|${biasShape?.join(',') ?? '-'}`;
  const known = plans.get(key);
  if (known) return known;
  const plan = planEinsum(equation, aShape, bShape, biasShape);
  // Shapes vary with the batch (and the sequence) size: an unbounded run of them is not kept.
  if (plans.size >= MAX_PLANS) plans.clear();
  plans.set(key, plan);
  return plan;
}

function planEinsum(equation: string, aShape: readonly number[], bShape: readonly number[], biasShape: readonly number[] | undefined): EinsumPlan {
  const { left, right, output } = parseEquation(equation, aShape.length, bShape.length);
  const size = new Map<string, number>();
  [...left].forEach((l, i) => size.set(l, aShape[i]!));
  [...right].forEach((l, i) => {
    const other = size.get(l);
    if (other !== undefined && other !== bShape[i]) {
      throw new Error(`einsum '${equation}': label '${l}' has size ${other} in the first operand and ${bShape[i]} in the second.`);
    }
    size.set(l, bShape[i]!);
  });
  const [sumA, xLabels] = summedOut(left, right + output);
  const [sumB, yLabels] = summedOut(right, left + output);
  const batch = [...output].filter((l) => xLabels.includes(l) && yLabels.includes(l));
  const contracted = [...xLabels].filter((l) => yLabels.includes(l) && !output.includes(l));
  const freeX = [...output].filter((l) => xLabels.includes(l) && !yLabels.includes(l));
  const freeY = [...output].filter((l) => yLabels.includes(l) && !xLabels.includes(l));
  const missing = [...output].find((l) => !size.has(l));
  if (missing) throw new Error(`einsum '${equation}': output label '${missing}' is in neither operand.`);
  const sizes = (labels: string[]) => labels.map((l) => size.get(l)!);
  const product = (labels: string[]) => sizes(labels).reduce((p, d) => p * d, 1);
  const order = [...batch, ...freeX, ...freeY];
  // A bias over the columns of the product, the output in the product's own order, is added in
  // the product's kernel (tfjs's fused matMul; on wasm the tiles' epilogue, while the rows are in
  // cache), after the sums, as the separate add would: a rank-1 one as it is, one shaped as the
  // product's columns' labels (attention's query, key and value projections: [heads, size]) as
  // one row, where the backend takes it (reshapedBiasFuses).
  const columnsFirst = biasShape !== undefined && batch.length === 0 && order.join('') === output;
  const columnBias = !columnsFirst ? null : biasShape.length === 1 && biasShape[0] === product(freeY) ? 'row' : tf.util.arraysEqual(withoutLeadingOnes(biasShape), sizes(freeY)) ? 'reshaped' : null;
  return {
    sumA,
    sumB,
    arrangeA: arrangement(xLabels, [...batch, ...freeX, ...contracted]),
    arrangeB: arrangement(yLabels, [...batch, ...contracted, ...freeY]),
    lhsShape: [product(batch), product(freeX), product(contracted)],
    rhsShape: [product(batch), product(contracted), product(freeY)],
    productShape: sizes(order),
    arrangeOutput: arrangement(order.join(''), [...output]),
    columnBias,
  };
}

/**
 * Why einsum() cannot run `equation` on operands of these ranks, or null: for a layer to refuse an
 * equation from its config when it is built. einsum() itself throws plain Errors, its equations
 * having been checked so (or being our own).
 */
export function einsumEquationProblem(equation: string, rankA: number, rankB: number): string | null {
  try {
    parseEquation(equation, rankA, rankB);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The equation's three label strings, with '...' spelled out as upper-case labels. */
function parseEquation(equation: string, rankA: number, rankB: number): { left: string; right: string; output: string } {
  const match = /^([a-zA-Z.]*),([a-zA-Z.]*)->([a-zA-Z.]*)$/.exec(equation.replace(/\s/g, ''));
  if (!match) throw new Error(`einsum '${equation}': expected two operands and an explicit output ('ab,bc->ac').`);
  if (equation.includes('...') && /[A-Z]/.test(equation)) {
    throw new Error(`einsum '${equation}': upper-case labels next to '...' are not supported.`);
  }
  const elided = (spec: string, rank: number) => (spec.includes('...') ? rank - (spec.length - 3) : 0);
  const ellipsis = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(0, Math.max(elided(match[1]!, rankA), elided(match[2]!, rankB)));
  const spell = (spec: string, count: number) => spec.replace('...', ellipsis.slice(ellipsis.length - count));
  const left = spell(match[1]!, elided(match[1]!, rankA));
  const right = spell(match[2]!, elided(match[2]!, rankB));
  const output = spell(match[3]!, ellipsis.length);
  for (const [spec, rank] of [[left, rankA], [right, rankB]] as const) {
    if (spec.length !== rank) throw new Error(`einsum '${equation}': '${spec}' does not match an operand of rank ${rank}.`);
    if (new Set(spec).size !== spec.length) throw new Error(`einsum '${equation}': repeated labels in '${spec}' are not supported.`);
  }
  return { left, right, output };
}

/** The axes of an operand labelled `labels` that appear nowhere in `elsewhere` (summed out first), and the labels left. */
function summedOut(labels: string, elsewhere: string): [number[], string] {
  const axes = [...labels].flatMap((l, i) => (elsewhere.includes(l) ? [] : [i]));
  return [axes, [...labels].filter((_, i) => !axes.includes(i)).join('')];
}

function withoutLeadingOnes(shape: readonly number[]): number[] {
  const first = shape.findIndex((d) => d !== 1);
  return first < 0 ? [] : shape.slice(first);
}

/** The permutation taking labels `labels` to the order `order`, or null where they are in it already. */
function arrangement(labels: string, order: string[]): number[] | null {
  const perm = order.map((l) => labels.indexOf(l));
  return perm.every((p, i) => p === i) ? null : perm;
}
