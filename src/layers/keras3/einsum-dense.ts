import tf from '#tfjs';
import { einsum, einsumEquationProblem } from './einsum.js';
import { singleShape, singleTensor } from './single-input.js';
import { activationNamed, WeightSettings, type TfjsActivation, type TfjsObjectArg } from './tfjs-objects.js';
import { badField, unsupportedField, type NamedLayer } from '../layer-errors.js';

export interface KerasEinsumDenseArgs {
  equation: string;
  /** The output shape without the batch (and elided) axes. */
  outputShape: number | (number | null)[];
  activation?: string | null;
  biasAxes?: string | null;
  kernelInitializer?: TfjsObjectArg;
  biasInitializer?: TfjsObjectArg;
  kernelRegularizer?: TfjsObjectArg;
  biasRegularizer?: TfjsObjectArg;
  kernelConstraint?: TfjsObjectArg;
  biasConstraint?: TfjsObjectArg;
}

/**
 * Keras 3's EinsumDense: einsum(equation, inputs, kernel) + bias, then the activation. Weights:
 * kernel, then bias (when bias_axes is set), shaped as Keras's _analyze_einsum_string works them
 * out from the equation, the input shape and output_shape.
 */
export class KerasEinsumDense extends tf.layers.Layer {
  static readonly className = 'KerasEinsumDense';
  readonly equation: string;
  readonly partialOutputShape: (number | null)[];
  readonly biasAxes: string | null;
  private readonly activation: TfjsActivation;
  private readonly kernelSettings: WeightSettings;
  private readonly biasSettings: WeightSettings;
  private kernel!: tf.LayerVariable;
  private bias: tf.LayerVariable | null = null;

  constructor(args: KerasEinsumDenseArgs & Record<string, unknown>) {
    super(args as object);
    this.equation = args.equation;
    this.partialOutputShape = typeof args.outputShape === 'number' ? [args.outputShape] : args.outputShape;
    this.biasAxes = args.biasAxes ?? null;
    this.activation = activationNamed(this, 'activation', args.activation);
    this.kernelSettings = WeightSettings.read(this, args, 'kernel', 'glorotUniform');
    this.biasSettings = WeightSettings.read(this, args, 'bias', 'zeros');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const { kernelShape, biasShape } = analyzeEinsumDense(this.equation, this.biasAxes, singleShape(inputShape), this.partialOutputShape, this);
    const problem = einsumEquationProblem(this.equation, singleShape(inputShape).length, kernelShape.length);
    if (problem) throw unsupportedField(this, 'equation', problem);
    const kernel = this.kernelSettings;
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', kernel.initializer, kernel.regularizer, true, kernel.constraint);
    if (biasShape) {
      const bias = this.biasSettings;
      this.bias = this.addWeight('bias', biasShape, 'float32', bias.initializer, bias.regularizer, true, bias.constraint);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const y = einsum(this.equation, singleTensor(inputs), this.kernel.read(), this.bias?.read());
      return this.activation.apply(y);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return analyzeEinsumDense(this.equation, this.biasAxes, singleShape(inputShape), this.partialOutputShape, this).outputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      equation: this.equation,
      outputShape: this.partialOutputShape,
      biasAxes: this.biasAxes,
      activation: this.activation.getClassName(),
      ...this.kernelSettings.config(),
      ...this.biasSettings.config(),
    };
  }
}
tf.serialization.registerClass(KerasEinsumDense);

/**
 * Kernel, bias and output shapes of an EinsumDense, following Keras's _analyze_split_string: the
 * equation is 'X,W->Z', '...X,W->...Z' or 'X...,W->Z...'. The output shape is the einsum's: with
 * several left-elided axes Keras's compute_output_shape lists them in reverse order.
 */
export function analyzeEinsumDense(
  equation: string,
  biasAxes: string | null,
  inputShape: tf.Shape,
  partialOutputShape: (number | null)[],
  /** The EinsumDense whose config gave the equation; null for equations of our own (MultiHeadAttention's), whose errors are bugs. */
  layer: NamedLayer | null = null,
): { kernelShape: number[]; biasShape: number[] | null; outputShape: tf.Shape } {
  const dotted = equation.replace(/\.\.\./g, '0');
  const plain = /^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$/.exec(dotted);
  const left = /^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$/.exec(dotted);
  const right = /^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$/.exec(dotted);
  const match = plain ?? left ?? right;
  if (!match) throw refuse(layer, 'equation', `'${equation}' is not of the form X,W->Z, ...X,W->...Z or X...,W->Z...`);
  const [, inputSpec, weightSpec, outputSpec] = match as unknown as [string, string, string, string];
  const leftElided = !plain && !!left;
  const elided = inputShape.length - inputSpec.length;
  const outputShape: tf.Shape = [inputShape[0]!, ...partialOutputShape];
  if (elided > 0 && leftElided) outputShape.splice(1, 0, ...inputShape.slice(1, elided));
  if (elided > 0 && !leftElided) outputShape.push(...inputShape.slice(inputShape.length - elided));
  const inputIndex = (label: string) => inputSpec.indexOf(label) + (leftElided ? elided : 0);
  const outputIndex = (label: string) => outputSpec.indexOf(label) + (leftElided ? elided : 0);
  // An output axis left as None in output_shape takes the size of the input axis it comes from.
  for (const label of outputSpec) {
    if (outputShape[outputIndex(label)] === null && inputSpec.includes(label)) outputShape[outputIndex(label)] = inputShape[inputIndex(label)]!;
  }
  const kernelShape = [...weightSpec].map((label) => {
    const size = outputSpec.includes(label) ? outputShape[outputIndex(label)] : inputSpec.includes(label) ? inputShape[inputIndex(label)] : undefined;
    if (size === undefined) throw refuse(layer, 'equation', `'${equation}': weight label '${label}' is in neither the input nor the output`);
    if (size === null) throw refuse(layer, 'equation', `'${equation}': the size of weight label '${label}' is unknown`);
    return size;
  });
  return { kernelShape, biasShape: biasAxes ? biasShapeOf(layer, biasAxes, outputSpec, outputShape, leftElided ? elided : 0, leftElided ? 0 : elided) : null, outputShape };
}

/** Keras's bias shape: the output axes from the first bias axis on, 1 where not a bias axis. */
function biasShapeOf(layer: NamedLayer | null, biasAxes: string, outputSpec: string, outputShape: tf.Shape, leftElided: number, rightElided: number): number[] {
  const stray = [...biasAxes].find((label) => !outputSpec.includes(label));
  if (stray) throw refuse(layer, 'bias_axes', `bias axis '${stray}' is not in the output spec '${outputSpec}'`);
  const first = Math.min(...[...biasAxes].map((label) => outputSpec.indexOf(label)));
  const shape = [...outputSpec.slice(first)].map((label, i) => (biasAxes.includes(label) ? outputShape[first + i + leftElided]! : 1));
  return [...shape, ...new Array<number>(rightElided).fill(1)];
}

/** A bad EinsumDense config names the layer and the field; a bad equation of our own is a bug. */
function refuse(layer: NamedLayer | null, field: string, detail: string): Error {
  return layer ? badField(layer, field, detail) : new Error(`EinsumDense ${field} ${detail}`);
}
