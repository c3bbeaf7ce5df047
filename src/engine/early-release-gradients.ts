import tf from '#tfjs';

/** The parts of tfjs-core 4.22's Engine this walk uses (its tape, scopes and tidy). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

type Gradients = (f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean) => { value: tf.Tensor; grads: Array<tf.Tensor | undefined> };

interface EngineInternals {
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  gradients: Gradients;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
  tidy<T extends tf.TensorContainer>(f: () => T): T;
}

const ORIGINAL = Symbol.for('keras-bridge.tfjs-gradients');

/**
 * The nodes of the tape on a path from one of `xs` to `y`, in tape order, each with only the inputs
 * that depend on an x (the others need no gradient).
 */
function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const reachedFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => fromX.has(input.id))) {
      reachedFromX.add(node.id);
      for (const output of node.outputs) fromX.add(output.id);
    }
  }
  const toY = new Set([y.id]);
  const leadsToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (!node.outputs.some((output) => toY.has(output.id))) continue;
    leadsToY.add(node.id);
    for (const input of Object.values(node.inputs)) toY.add(input.id);
  }
  return tape
    .filter((node) => reachedFromX.has(node.id) && leadsToY.has(node.id))
    .map((node) => ({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, input]) => fromX.has(input.id))) }));
}

/**
 * tfjs-core's Engine.gradients (behind tf.grads, tf.variableGrads, optimizers and model.fit), with
 * the same results, releasing memory as the backward pass goes. tfjs-core keeps every node's output
 * gradient and every tensor saved for a gradient until the whole backward pass ends, so its peak is
 * the forward pass's saved tensors plus the gradient of every intermediate tensor. Here a node's
 * output gradients and saved tensors are disposed as soon as the node's input gradients are
 * computed (nothing later reads them), as TensorFlow's own tape frees them.
 *
 * MobileNetV2 on wasm, one image: 376 MB at the peak before, measured; wasm's 4 GB
 * ran out at batch 16. Nested gradients (a gradient taken inside another's function) keep
 * tfjs-core's own walk: the outer tape needs what the inner one would release.
 */
function earlyReleaseGradients(this: EngineInternals, f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients = false) {
  const original = (this as unknown as Record<symbol, Gradients>)[ORIGINAL]!;
  if (this.state.gradientDepth > 0 || xs.length === 0) return original.call(this, f, xs, dy, allowNoGradients);
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  let y: tf.Tensor | undefined;
  try {
    y = this.scopedRun(() => this.startTape(), () => this.endTape(), () => this.tidy('forward', f));
    if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
    const tape = this.state.activeTape ?? [];
    const path = nodesFromXsToY(tape, xs, y);
    if (!allowNoGradients && path.length === 0) {
      throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    }
    return backward.call(this, tape, path, xs, y, dy);
  } catch (error) {
    // A pass that throws, forward or backward (wasm out of memory, a gradient that fails), would
    // leave what the tape saved, and the forward pass's result, alive for good: tfjs-core frees
    // them only when the pass completes. The caller gets neither, so both go (each pass's scope
    // took its own intermediates).
    for (const node of this.state.activeTape ?? []) for (const saved of node.saved ?? []) saved.dispose();
    this.state.activeTape = null;
    if (y instanceof tf.Tensor) y.dispose();
    throw error;
  }
}

/** The backward walk of earlyReleaseGradients over `path`, in its own scope. */
function backward(this: EngineInternals, tape: readonly TapeNode[], path: readonly TapeNode[], xs: tf.Tensor[], y: tf.Tensor, dy: tf.Tensor | undefined) {
  return this.tidy('backward', () => {
    const gradientOf = new Map<number, tf.Tensor>();
    // How many entries of gradientOf hold each tensor object: a gradient function may hand a dy on as a dx.
    const holders = new Map<tf.Tensor, number>();
    const hold = (id: number, gradient: tf.Tensor) => {
      gradientOf.set(id, gradient);
      holders.set(gradient, (holders.get(gradient) ?? 0) + 1);
    };
    const release = (id: number) => {
      const gradient = gradientOf.get(id);
      if (!gradient) return;
      gradientOf.delete(id);
      const left = holders.get(gradient)! - 1;
      if (left > 0) holders.set(gradient, left);
      else {
        holders.delete(gradient);
        gradient.dispose();
      }
    };
    // Never released: the caller's dy and the gradients returned.
    const kept = new Set([y.id, ...xs.map((x) => x.id)]);
    hold(y.id, dy ?? tf.ones(y.shape));
    for (let i = path.length - 1; i >= 0; i--) {
      const node = path[i]!;
      if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const gradient = node.gradient;
      const dys = node.outputs.map((output) => gradientOf.get(output.id) ?? null);
      const names = Object.keys(node.inputs);
      // One scope per node: the zeros tfjs makes for outputs off the path go with it.
      const dxs = this.tidy(() => {
        const inputGradients = gradient(dys);
        return names.map((name) => {
          if (!(name in inputGradients)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`);
          const dx = this.tidy(() => inputGradients[name]!());
          const x = node.inputs[name]!;
          if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
          if (!tf.util.arraysEqual(dx.shape, x.shape)) {
            throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
          }
          return dx;
        });
      });
      names.forEach((name, k) => {
        const x = node.inputs[name]!;
        const dx = dxs[k]!;
        const current = gradientOf.get(x.id);
        if (!current) return hold(x.id, dx);
        const sum = tf.add(current, dx);
        release(x.id);
        if (!holders.has(dx)) dx.dispose();
        hold(x.id, sum);
      });
      // Nothing later reads this node's output gradients or the tensors it saved.
      for (const output of node.outputs) if (!kept.has(output.id)) release(output.id);
      for (const saved of node.saved ?? []) saved.dispose();
    }
    const grads = xs.map((x) => gradientOf.get(x.id));
    for (const node of tape) for (const saved of node.saved ?? []) saved.dispose();
    this.state.activeTape = null;
    return { value: y, grads } as unknown as tf.TensorContainer;
  }) as unknown as { value: tf.Tensor; grads: Array<tf.Tensor | undefined> };
}

/** Installs the walk above on tfjs's engine (once; keras-bridge's runtime does on import). */
export function installEarlyReleaseGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals & Record<symbol, Gradients | undefined>;
  if (engine[ORIGINAL]) return;
  engine[ORIGINAL] = engine.gradients;
  engine.gradients = earlyReleaseGradients as unknown as Gradients;
}

/** Puts tfjs-core's own Engine.gradients back (to compare, or to rule this out when debugging). */
export function restoreTfjsGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals & Record<symbol, Gradients | undefined>;
  const original = engine[ORIGINAL];
  if (!original) return;
  engine.gradients = original;
  engine[ORIGINAL] = undefined;
}
