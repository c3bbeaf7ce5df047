import tf from '#tfjs';
import { UnsupportedLayerError } from '../../errors.js';

/**
 * A TensorFlow Einsum of one or two operands as tfjs ops every backend runs and differentiates:
 * sums, transposes, reshapes and one batched matMul. tfjs 4.22's own tf.einsum has no gradient
 * and no wasm kernel, and attention layers (EinsumDense, the score products) trace to Einsum.
 *
 * For `A,B->O`: indices of one operand found nowhere else are summed first; the rest are batch
 * (in A, B and O), contracted (in A and B, not O) or kept from A or B alone (in O). A becomes
 * [batch, keptA, contracted] reshaped to [b, m, k], B [batch, contracted, keptB] to [b, k, n]; their
 * matMul, reshaped and transposed, is O. Refused (an Error naming the equation): ellipses, an index
 * repeated in one operand (a diagonal), an output index in no operand, three or more operands.
 */
export function einsum(equation: string, inputs: tf.Tensor[]): tf.Tensor {
  const { terms, output } = parseEquation(equation, inputs.length);
  const summed = terms.map((term, i) => sumAlone(inputs[i]!, term, output, terms.filter((_, j) => j !== i)));
  if (summed.length === 1) return tf.transpose(summed[0]!.x, [...output].map((c) => summed[0]!.term.indexOf(c)));
  const [a, b] = summed as [Operand, Operand];
  const batch = [...output].filter((c) => a.term.includes(c) && b.term.includes(c));
  const contracted = [...a.term].filter((c) => b.term.includes(c) && !output.includes(c));
  const keptA = [...a.term].filter((c) => !b.term.includes(c));
  const keptB = [...b.term].filter((c) => !a.term.includes(c));
  const size = (c: string) => (a.term.includes(c) ? a.x.shape[a.term.indexOf(c)]! : b.x.shape[b.term.indexOf(c)]!);
  const product = (cs: string[]) => cs.reduce((n, c) => n * size(c), 1);
  const arrange = (operand: Operand, order: string[], dims: number[]) =>
    tf.reshape(tf.transpose(operand.x, order.map((c) => operand.term.indexOf(c))), dims);
  const left = arrange(a, [...batch, ...keptA, ...contracted], [product(batch), product(keptA), product(contracted)]);
  const right = arrange(b, [...batch, ...contracted, ...keptB], [product(batch), product(contracted), product(keptB)]);
  const result = tf.reshape(tf.matMul(left, right), [...batch, ...keptA, ...keptB].map(size));
  const order = [...batch, ...keptA, ...keptB];
  return tf.transpose(result, [...output].map((c) => order.indexOf(c)));
}

interface Operand {
  x: tf.Tensor;
  term: string;
}

function parseEquation(equation: string, operands: number): { terms: string[]; output: string } {
  const compact = equation.replace(/\s+/g, '');
  const [left, output] = compact.split('->');
  const refuse = (why: string) => new UnsupportedLayerError(`Einsum '${equation}': ${why}; keras-bridge runs einsums of one or two operands with distinct indices`);
  if (left === undefined || output === undefined) throw refuse('no explicit output (->)');
  if (compact.includes('.')) throw refuse('ellipses (...) are not supported');
  const terms = left.split(',');
  if (terms.length !== operands || operands > 2) throw refuse(`${operands} operand(s)`);
  if ([...terms, output].some((t) => new Set(t).size !== t.length)) throw refuse('an index repeats within one operand');
  if ([...output].some((c) => !terms.some((t) => t.includes(c)))) throw refuse('an output index is in no operand');
  return { terms, output };
}

/** Sums `x` over the indices of `term` that are neither in the output nor in another operand. */
function sumAlone(x: tf.Tensor, term: string, output: string, others: string[]): Operand {
  const alone = [...term].filter((c) => !output.includes(c) && !others.some((o) => o.includes(c)));
  if (alone.length === 0) return { x, term };
  return { x: tf.sum(x, alone.map((c) => term.indexOf(c))), term: [...term].filter((c) => !alone.includes(c)).join('') };
}
