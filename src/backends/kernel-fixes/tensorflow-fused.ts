import tf from '#tfjs';
import { runTensorflowOp, type TensorflowOpAttr } from './tensorflow-op.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * tfjs's fused convolution (FusedConv2D: a convolution, its bias and its activation) as one
 * TensorFlow op, which adds the bias and applies the activation while writing the product: one op
 * and one pass over the output where tfjs-node runs three (Conv2D, Add, Relu). tfjs-layers calls
 * it for every Conv2D and Dense with a bias, and with a ReLU or ELU activation (convert
 * --fold-batch-norm merges one in: docs/inference-rewrites.md).
 *
 * The op is oneDNN's, _MklNativeFusedConv2D, where TensorFlow registers it (its oneDNN ops are on:
 * keras-bridge sets TF_ENABLE_ONEDNN_OPTS=1 unless the user set it, native-tensorflow.ts);
 * elsewhere tfjs-node's three ops run. Never
 * TensorFlow's own _FusedConv2D, which an eager call runs on Eigen's contraction with oneDNN's
 * sgemm: that kernel corrupts the heap when the thread running it takes a signal on its own stack
 * (glibc aborts: "corrupted size vs. prev_size", "free(): invalid size"). Node's sampling profiler
 * sends the main thread such a signal every millisecond (node --cpu-prof crashed a ResNet50 pass
 * every time), and any other signal can too. Measured without Node: TensorFlow 2.21 in Python,
 * _FusedConv2D on Eigen (oneDNN off) with a thread signalling the caller every 0.5 ms crashed 3
 * runs of 3, and none of 3 with the handler on an alternate stack or with _MklNativeFusedConv2D
 * (scripts/fused_conv2d_signal_check.py). tfjs-node's Conv2D, Add and Relu did not crash.
 *
 * Not FusedDepthwiseConv2D: TensorFlow's CPU _FusedDepthwiseConv2dNative returned an empty tensor
 * (shape [0]) for every input, from tfjs-node and from Python alike, on a CPU where TensorFlow runs
 * Eigen's kernels (AVX2, oneDNN off); tfjs-node's three ops run it. tfjs's fused matrix product is
 * not either: tfjs-core hands every product to the kernel as a batch of matrices, and TensorFlow
 * fuses only plain ones.
 *
 * The ops take a list of fused op names, which tfjs-node's binding cannot pass until keras-bridge's
 * build extends it (scripts/binding-list-attributes.mjs): the first call finds out, and without it
 * every call goes to tfjs-node's own kernel (undefined). So do the cases oneDNN has no fused op
 * for: no bias, a PReLU or sigmoid activation, other dtypes, explicit padding.
 */
const ACTIVATIONS: Readonly<Record<string, string[]>> = {
  linear: ['BiasAdd'],
  relu: ['BiasAdd', 'Relu'],
  relu6: ['BiasAdd', 'Relu6'],
  elu: ['BiasAdd', 'Elu'],
  leakyrelu: ['BiasAdd', 'LeakyRelu'],
};

let listAttributes: boolean | undefined;

/** Whether this build of the binding passes list attributes (found out once, on a 1x1 product). */
function bindingTakesLists(backend: tf.KernelBackend): boolean {
  if (listAttributes === undefined) {
    try {
      tf.tidy(() => {
        const one = tf.ones([1, 1]);
        runTensorflowOp(backend, '_FusedMatMul', [one, one, tf.zeros([1])], { T: FLOAT, num_args: { type: 'int', value: 1 }, fused_ops: { type: 'strings', value: ['BiasAdd'] } });
      });
      listAttributes = true;
    } catch {
      listAttributes = false;
    }
  }
  return listAttributes;
}

/** oneDNN's fused convolution, and the kernel label TensorFlow registers it under (its graph rewrite sets it; an eager call must). */
const ONEDNN_FUSED_CONVOLUTION = '_MklNativeFusedConv2D';
const ONEDNN_KERNEL_LABEL = { _kernel: { type: 'string', value: 'MklNameChangeOp' } } as const;

/** Each list of fused ops oneDNN's kernel was tried with, and whether it ran (found out once per list). */
const onednnRuns = new Map<string, boolean>();

/**
 * The fused convolution in oneDNN's op; undefined where TensorFlow has no such kernel here (oneDNN
 * off) or refuses these fused ops, which is found out on the first call of each and remembered.
 */
function onednnFusedConvolution(backend: tf.KernelBackend, inputs: tf.TensorInfo[], attrs: Record<string, TensorflowOpAttr>): tf.Tensor | undefined {
  const key = JSON.stringify(attrs['fused_ops']?.value);
  if (onednnRuns.get(key) === false) return undefined;
  try {
    const [y] = runTensorflowOp(backend, ONEDNN_FUSED_CONVOLUTION, inputs, { ...attrs, ...ONEDNN_KERNEL_LABEL });
    onednnRuns.set(key, true);
    return y;
  } catch (error) {
    if (onednnRuns.get(key) === true) throw error; // it ran these before: a real failure, not a missing kernel
    onednnRuns.set(key, false);
    return undefined;
  }
}

/** Whether oneDNN's fused convolution ran with these fused ops (tests; undefined until first tried). */
export function onednnFusedConvolutionRuns(fusedOps: readonly string[]): boolean | undefined {
  return onednnRuns.get(JSON.stringify(fusedOps));
}

const FLOAT = { type: 'dtype', value: 'float32' } as const;

/** fused_ops and leakyrelu_alpha for tfjs's activation attrs; undefined when TensorFlow fuses no such thing. */
function fusedOps(inputs: KernelArgs['inputs'], attrs: tf.NamedAttrMap): Record<string, TensorflowOpAttr> | undefined {
  const ops = ACTIVATIONS[(attrs['activation'] as string | undefined) ?? 'linear'];
  if (!ops || !inputs['bias'] || inputs['preluActivationWeights']) return undefined;
  if (Object.values(inputs).some((t) => t && t.dtype !== 'float32')) return undefined;
  return {
    T: FLOAT,
    num_args: { type: 'int', value: 1 },
    fused_ops: { type: 'strings', value: ops },
    ...(ops.includes('LeakyRelu') ? { leakyrelu_alpha: { type: 'float', value: (attrs['leakyreluAlpha'] as number | undefined) ?? 0.2 } } : {}),
  };
}

/** The bias as TensorFlow's BiasAdd wants it: one value per output channel (as layers give it; reshaped otherwise). */
function channelBias(bias: tf.TensorInfo, channels: number): tf.TensorInfo | undefined {
  if (bias.shape.length === 1 && bias.shape[0] === channels) return bias;
  const size = bias.shape.reduce((a, b) => a * b, 1);
  return size === channels ? tf.reshape(bias as tf.Tensor, [channels]) : undefined;
}

function convolutionAttrs(convInfo: tf.backend_util.Conv2DInfo): Record<string, TensorflowOpAttr> | undefined {
  const padding = convInfo.padInfo.type;
  if (padding !== 'SAME' && padding !== 'VALID') return undefined;
  return {
    strides: { type: 'int', value: [1, convInfo.strideHeight, convInfo.strideWidth, 1] },
    padding: { type: 'string', value: padding },
    data_format: { type: 'string', value: 'NHWC' },
    dilations: { type: 'int', value: [1, convInfo.dilationHeight, convInfo.dilationWidth, 1] },
  };
}

export function tensorflowFusedConv2D({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo | undefined {
  const { x, filter, bias } = inputs as Record<string, tf.TensorInfo>;
  const fused = fusedOps(inputs, attrs);
  if (!fused || attrs['dataFormat'] !== 'NHWC' || !bindingTakesLists(backend as tf.KernelBackend)) return undefined;
  const shape4 = (t: tf.TensorInfo) => t.shape as [number, number, number, number];
  const convInfo = tf.backend_util.computeConv2DInfo(shape4(x!), shape4(filter!), attrs['strides'] as number, attrs['dilations'] as number, attrs['pad'] as 'same', attrs['dimRoundingMode'] as unknown as undefined, false, 'channelsLast');
  const convolution = convolutionAttrs(convInfo);
  if (!convolution) return undefined;
  return tf.tidy(() => {
    const b = channelBias(bias!, convInfo.outChannels);
    const only: Record<string, TensorflowOpAttr> = { TArgs: { type: 'dtypes', value: ['float32'] }, use_cudnn_on_gpu: { type: 'bool', value: true } };
    return b ? onednnFusedConvolution(backend as tf.KernelBackend, [x!, filter!, b], { ...fused, ...convolution, ...only }) : undefined;
  });
}
