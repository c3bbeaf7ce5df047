import tf from '#tfjs';
import { reshaped } from '../../ops/reshaped.js';

/**
 * A two-operand einsum ('abc,cde->abde', '...b,bc->...c') built from transpose, reshape and
 * batched matMul, as TensorFlow evaluates one. tfjs's tf.einsum has no gradient and no wasm
 * kernel; these ops have both. Labels in one operand only and not in the output are summed
 * first; labels in both operands and the output are batch axes; labels in both operands only
 * are contracted. A label may appear once per operand. With `bias`, einsum(...) + bias (an
 * EinsumDense's), broadcast as tf.add broadcasts it.
 */
export function einsum(equation: string, a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const { left, right, output } = parseEquation(equation, a.rank, b.rank);
  const size = new Map<string, number>();
  [...left].forEach((l, i) => size.set(l, a.shape[i]!));
  [...right].forEach((l, i) => {
    const other = size.get(l);
    if (other !== undefined && other !== b.shape[i]) {
      throw new Error(`einsum '${equation}': label '${l}' has size ${other} in the first operand and ${b.shape[i]} in the second.`);
    }
    size.set(l, b.shape[i]!);
  });
  const [x, xLabels] = sumOut(a, left, right + output);
  const [y, yLabels] = sumOut(b, right, left + output);
  const batch = [...output].filter((l) => xLabels.includes(l) && yLabels.includes(l));
  const contracted = [...xLabels].filter((l) => yLabels.includes(l) && !output.includes(l));
  const freeX = [...output].filter((l) => xLabels.includes(l) && !yLabels.includes(l));
  const freeY = [...output].filter((l) => yLabels.includes(l) && !xLabels.includes(l));
  const missing = [...output].find((l) => !size.has(l));
  if (missing) throw new Error(`einsum '${equation}': output label '${missing}' is in neither operand.`);
  const sizes = (labels: string[]) => labels.map((l) => size.get(l)!);
  const product = (labels: string[]) => sizes(labels).reduce((p, d) => p * d, 1);
  const lhs = reshaped(arrange(x, xLabels, [...batch, ...freeX, ...contracted]), [product(batch), product(freeX), product(contracted)]);
  const rhs = reshaped(arrange(y, yLabels, [...batch, ...contracted, ...freeY]), [product(batch), product(contracted), product(freeY)]);
  const order = [...batch, ...freeX, ...freeY];
  // A rank-1 bias over the columns of the product, the output in the product's own order, is
  // added in the product's kernel (tfjs's fused matMul; on wasm the tiles' epilogue, while the
  // rows are in cache), after the sums, as the separate add would. Not a reshaped one:
  // tfjs-backend-wasm's kernel reads a bias's rank from its data, which a reshape shares.
  const columnBias = bias && batch.length === 0 && order.join('') === output && bias.rank === 1 && bias.shape[0] === product(freeY);
  const sums = columnBias ? tf.fused.matMul({ a: lhs, b: rhs, bias }) : tf.matMul(lhs, rhs);
  const result = arrange(reshaped(sums, sizes(order)), order.join(''), [...output]);
  return bias && !columnBias ? tf.add(result, bias) : result;
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

/** Sums `x` over its labels that appear nowhere in `elsewhere`. */
function sumOut(x: tf.Tensor, labels: string, elsewhere: string): [tf.Tensor, string] {
  const axes = [...labels].flatMap((l, i) => (elsewhere.includes(l) ? [] : [i]));
  if (axes.length === 0) return [x, labels];
  return [tf.sum(x, axes), [...labels].filter((_, i) => !axes.includes(i)).join('')];
}

/** Transposes `x`, labelled `labels`, to the label order `order`. */
function arrange(x: tf.Tensor, labels: string, order: string[]): tf.Tensor {
  const perm = order.map((l) => labels.indexOf(l));
  return perm.every((p, i) => p === i) ? x : tf.transpose(x, perm);
}
