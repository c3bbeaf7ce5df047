import tf from '#tfjs';

/** A kernel's input or output as a tensor: tfjs passes TensorInfo (dataId, shape, dtype) on some backends. */
export function asTensor(info: tf.TensorInfo): tf.Tensor {
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * Runs the backend's own registered kernels on tensors that stay in the backend's memory, and
 * frees every intermediate it made when the composition ends (`keep` spares the result).
 */
export class KernelRunner {
  private readonly made: tf.TensorInfo[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
    /** The kernel this composition stands in for (tfjs's own, for a 'slow' fix). */
    private readonly replaced?: tf.KernelConfig,
  ) {}

  /** The replaced kernel itself, on other inputs or attributes (a 'slow' fix calling tfjs's kernel in its fast case). */
  original(inputs: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap): tf.TensorInfo {
    if (!this.replaced) throw new Error('this composition replaces no kernel of its own');
    const out = this.replaced.kernelFunc({ inputs, backend: this.backend, attrs }) as tf.TensorInfo;
    this.made.push(out);
    return out;
  }

  /** The backend's kernel `kernelName` on `inputs` (a list for variadic kernels: Concat); its output is freed at the end unless kept. */
  run(kernelName: string, inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[], attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (!kernel) throw new Error(`${kernelName}: no kernel registered for backend '${this.backendName}'`);
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs }) as tf.TensorInfo;
    this.made.push(out);
    return out;
  }

  /** A tensor of `values` written into the backend; freed at the end. */
  constant(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.TensorInfo {
    const info = { dataId: this.backend.write(values, shape, dtype), shape, dtype };
    this.made.push(info);
    return info;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** Zero padding, `paddings` as [before, after] per axis; x itself when there is none. */
  pad(x: tf.TensorInfo, paddings: Array<[number, number]>): tf.TensorInfo {
    return paddings.every(([a, b]) => a === 0 && b === 0) ? x : this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * An NHWC tensor with rows [before, after] and columns [before, after] added, filled with
   * `value`; a negative `after` cuts that many from the far end instead. x itself when nothing changes.
   */
  padOrCut(x: tf.TensorInfo, rows: [number, number], columns: [number, number], value = 0): tf.TensorInfo {
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const cut = rows[1] < 0 || columns[1] < 0 ? this.slice(x, [0, 0, 0, 0], [b, h + Math.min(0, rows[1]), w + Math.min(0, columns[1]), c]) : x;
    const paddings: Array<[number, number]> = [[0, 0], [rows[0], Math.max(0, rows[1])], [columns[0], Math.max(0, columns[1])], [0, 0]];
    return paddings.every(([p, q]) => p === 0 && q === 0) ? cut : this.run('PadV2', { x: cut }, { paddings, constantValue: value });
  }

  /** An NHWC tensor with each pixel followed by sh - 1 zero rows and sw - 1 zero columns: [b, h·sh, w·sw, c]. */
  spread(x: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
    if (sh === 1 && sw === 1) return x;
    const [b, h, w, c] = x.shape as [number, number, number, number];
    return this.reshape(this.pad(this.reshape(x, [b, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]), [b, h * sh, w * sw, c]);
  }

  /** An output made outside the backend's kernels (a heap kernel's makeOutput): freed at the end unless it is the result. */
  track(info: tf.TensorInfo): tf.TensorInfo {
    this.made.push(info);
    return info;
  }

  /** Frees every intermediate but `result` (every one when there is none). */
  finish(result: tf.TensorInfo): tf.TensorInfo;
  finish(result: undefined): undefined;
  finish(result: tf.TensorInfo | undefined): tf.TensorInfo | undefined {
    // A Reshape may share its input's data: each output holds one reference, freed once.
    for (const info of this.made) if (info !== result) this.backend.disposeData(info.dataId);
    return result;
  }
}

/**
 * Computes a kernel from the backend's own kernels (no copy to JavaScript memory), or returns
 * undefined for a case it does not cover, which the fix's host computation then handles.
 */
export type ComposedCompute = (inputs: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap, runner: KernelRunner) => tf.TensorInfo | undefined;

/** How many times each composed or native kernel fell back, by kernel name (tests check which path a case took). */
export const composedFallbacks = new Map<string, number>();

/** A kernel config that tries `composed` on the backend's own kernels, else `fallback`'s kernel function. */
export function composedKernel(kernelName: string, backendName: string, composed: ComposedCompute, fallback: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    // The fallback's own setup (tfjs-backend-wasm binds its C function there when the backend starts).
    ...(fallback.setupFunc ? { setupFunc: fallback.setupFunc } : {}),
    ...(fallback.disposeFunc ? { disposeFunc: fallback.disposeFunc } : {}),
    kernelFunc: (args) => {
      const runner = new KernelRunner(args.backend as tf.KernelBackend, backendName, fallback);
      let result: tf.TensorInfo | undefined;
      try {
        result = composed(args.inputs as Record<string, tf.TensorInfo>, args.attrs ?? {}, runner);
      } catch (error) {
        runner.finish(undefined);
        throw error;
      }
      if (result === undefined) {
        runner.finish(undefined);
        composedFallbacks.set(kernelName, (composedFallbacks.get(kernelName) ?? 0) + 1);
        return fallback.kernelFunc(args);
      }
      return runner.finish(result);
    },
  };
}
