import tf from '#tfjs';
import { fillArguments } from './operation-arguments.js';
import { findOperation, type OperationConfig } from './operation-registry.js';
import './numpy-operations.js';
import './nn-operations.js';
import { InputError, LayerFieldError, UnsupportedLayerError, UnsupportedLayerFieldError } from '../../errors.js';
import { badField, unsupportedField } from '../layer-errors.js';

export interface KerasOperationArgs {
  name?: string;
  /** 'numpy.Mean', 'nn.Relu', ...: see operation-registry.ts. */
  operation: string;
  /** The Keras operation's own config (axis, keepdims, ...). */
  operationConfig?: Record<string, unknown>;
  /** Positional arguments with tensor slots: see operation-arguments.ts. */
  arguments: unknown[];
}

function snakeToCamel(name: string): string {
  return name.replace(/_+(\w)/g, (_, c: string) => c.toUpperCase());
}

/**
 * A Keras 3 operation node of a functional model, as a tfjs layer: its inputs are the tensors
 * among the operation's arguments, in argument order.
 */
export class KerasOperation extends tf.layers.Layer {
  static readonly className = 'KerasOperation';
  readonly operation: string;
  readonly operationConfig: Record<string, unknown>;
  readonly operationArguments: unknown[];

  constructor(args: KerasOperationArgs) {
    super({ name: args.name });
    if (!findOperation(args.operation)) throw badField(this, 'operation', `unknown operation '${args.operation}'`);
    this.operation = args.operation;
    this.operationConfig = args.operationConfig ?? {};
    this.operationArguments = args.arguments;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const tensors = Array.isArray(inputs) ? inputs : [inputs];
      const config: OperationConfig = {
        get: (snake) => this.operationConfig[snake] ?? this.operationConfig[snakeToCamel(snake)],
      };
      const args = fillArguments(this.operationArguments, tensors) as unknown[];
      try {
        return findOperation(this.operation)!(args, config);
      } catch (e) {
        throw this.named(e);
      }
    });
  }

  /**
   * tfjs-layers gives every symbolic layer output dtype float32, and its executor casts each
   * computed output to its symbolic dtype: a bool mask (`expand_dims(mask)`, `logical_not(mask)`)
   * or an int32 `cast` would become float32 on the way. The output takes the dtype the operation
   * computes from its inputs' dtypes instead.
   */
  override apply(inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[], kwargs?: tf.serialization.ConfigDict) {
    const output = super.apply(inputs, kwargs);
    if (output instanceof tf.SymbolicTensor) {
      const symbolic = (Array.isArray(inputs) ? inputs : [inputs]) as tf.SymbolicTensor[];
      (output as { dtype: tf.DataType }).dtype = this.probe(symbolic.map((t) => t.shape), symbolic.map((t) => t.dtype)).dtype;
    }
    return output;
  }

  /**
   * Shapes come from running the operation on zeros: every op here is shape-polymorphic. Open
   * dimensions (the batch, a sequence length, an image's height) are probed at two sizes: an output
   * dimension that follows them is open too, so that layers after it (an LSTM over the time axis,
   * a GetItem slicing to the runtime length) are not built for the probe's size.
   */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = (Array.isArray(inputShape[0]) || inputShape.length === 0 ? inputShape : [inputShape]) as tf.Shape[];
    const dtypes = shapes.map(() => 'float32' as const);
    const { shape } = this.probe(shapes, dtypes, 2);
    if (!shapes.some((s) => s.includes(null))) return shape;
    const other = this.probe(shapes, dtypes, 3).shape;
    return shape.map((d, i) => (other[i] === d ? d : null));
  }

  /** An operation's refusal of its arguments (it knows no layer), naming this layer and the field. */
  private named(e: unknown): unknown {
    if (e instanceof LayerFieldError || e instanceof UnsupportedLayerFieldError) return e;
    if (e instanceof UnsupportedLayerError) return unsupportedField(this, 'arguments', `${this.operation}: ${e.message}`);
    if (e instanceof InputError) return badField(this, 'arguments', `${this.operation}: ${e.message}`);
    return e;
  }

  private probe(shapes: tf.Shape[], dtypes: tf.DataType[], openSize = 2): { shape: number[]; dtype: tf.DataType } {
    const zeros = shapes.map((s, i) => tf.zeros(s.map((d) => d ?? openSize), dtypes[i]));
    const out = this.call(zeros.length === 1 ? zeros[0]! : zeros);
    const result = { shape: out.shape, dtype: out.dtype };
    tf.dispose([...zeros, out]);
    return result;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      operation: this.operation,
      operationConfig: this.operationConfig as tf.serialization.ConfigDict,
      arguments: this.operationArguments as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(KerasOperation);
