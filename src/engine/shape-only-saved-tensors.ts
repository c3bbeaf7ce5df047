import tf from '#tfjs';

/**
 * Kernels whose tfjs-core 4.22 gradient saves its inputs but reads only their shapes (and rank):
 * broadcasting sums (Add, Sub), the inverse reshape or slice (Reshape, PadV2, MirrorPad, Slice,
 * Concat), the broadcast back of a reduction (Mean, Sum), and AddN's count of inputs. Tile is not
 * here: its gradient starts from zerosLike(x), a kernel on x.
 */
export const SHAPE_ONLY_GRADIENT_KERNELS: readonly string[] = ['Add', 'Sub', 'AddN', 'Reshape', 'PadV2', 'MirrorPad', 'Slice', 'Concat', 'Mean', 'Sum'];

type AddTapeNode = (kernelName: string, inputs: unknown, outputs: unknown, gradientsFunc: unknown, saved: tf.Tensor[] | undefined, attrs: unknown) => void;

interface EngineInternals {
  addTapeNode: AddTapeNode;
}

interface Installed {
  original: AddTapeNode;
  /** tfjs-core's gradient of each kernel above, as registered when this was installed. */
  shapeOnly: Map<string, tf.GradConfig>;
}

const INSTALLED = Symbol.for('keras-bridge.shape-only-saved-tensors');

/**
 * tfjs-core keeps every tensor a gradient saves until the backward pass reaches it, even where the
 * gradient reads only its shape: an Add keeps both its operands' data, a Reshape its input's. In a
 * convolutional network under a tape that keeps a convolution's output before its bias (the bias
 * add's first operand), and a batch normalization's output (reshaped back, and a residual add's
 * operand), which nothing else needs: ResNet50 on wasm kept 161 MB per image after the forward
 * pass, where the values its gradients read are 80 MB. TensorFlow's tape keeps shapes there.
 *
 * Here, when a node of those kernels is recorded with tfjs-core's own gradient, the tensors it saved
 * are released at once: each stays a disposed tensor, whose shape, rank and dtype the gradient still
 * reads, and whose data goes when nothing else holds it. A gradient that read their values would
 * throw tfjs's "Tensor is disposed", never compute with other data. A gradient registered over
 * tfjs-core's (a kernel fix, a user's) keeps what it saves.
 */
function addTapeNodeReleasingShapeOnly(this: EngineInternals & Record<symbol, Installed>, kernelName: string, inputs: unknown, outputs: unknown, gradientsFunc: unknown, saved: tf.Tensor[] | undefined, attrs: unknown): void {
  const { original, shapeOnly } = this[INSTALLED];
  original.call(this, kernelName, inputs, outputs, gradientsFunc, saved, attrs);
  const gradient = shapeOnly.get(kernelName);
  if (saved && gradient && tf.getGradient(kernelName) === gradient) for (const tensor of saved) tensor.dispose();
}

/** Installs the release above on tfjs's engine (once; keras-bridge's runtime does on import). */
export function installShapeOnlySavedTensors(): void {
  const engine = tf.engine() as unknown as EngineInternals & Record<symbol, Installed | undefined>;
  if (engine[INSTALLED]) return;
  const shapeOnly = new Map<string, tf.GradConfig>();
  for (const kernelName of SHAPE_ONLY_GRADIENT_KERNELS) {
    const gradient = tf.getGradient(kernelName);
    if (gradient) shapeOnly.set(kernelName, gradient);
  }
  engine[INSTALLED] = { original: engine.addTapeNode, shapeOnly };
  engine.addTapeNode = addTapeNodeReleasingShapeOnly as unknown as AddTapeNode;
}

/** Puts tfjs-core's own recording back: saved tensors kept to the backward pass (to compare, or when debugging). */
export function restoreTfjsSavedTensors(): void {
  const engine = tf.engine() as unknown as EngineInternals & Record<symbol, Installed | undefined>;
  const installed = engine[INSTALLED];
  if (!installed) return;
  engine.addTapeNode = installed.original;
  engine[INSTALLED] = undefined;
}
