import * as tf from '@tensorflow/tfjs';
import { runTensorflowOp, type TensorflowOpAttr } from './tensorflow-op.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * tfjs's fused convolution (FusedConv2D: a convolution, its bias and its activation) as
 * TensorFlow's own fused op, which adds the bias and applies the activation while writing the
 * product: one op and one pass over the output where tfjs-node runs three (Conv2D, Add, Relu).
 * Not FusedDepthwiseConv2D: TensorFlow's CPU _FusedDepthwiseConv2dNative returned an empty tensor
 * (shape [0]) for every input, from tfjs-node and from Python alike, on a CPU where TensorFlow runs
 * Eigen's kernels (AVX2, oneDNN off); tfjs-node's three ops run it. tfjs-layers calls them for every Conv2D and Dense with a bias, and
 * with a ReLU or ELU activation (convert --fold-batch-norm merges one in: docs/inference-rewrites.md).
 * tfjs's fused matrix product is not: tfjs-core hands every product to the kernel as a batch of
 * matrices, and TensorFlow fuses only plain ones.
 *
 * The ops take a list of fused op names, which tfjs-node's binding cannot pass until keras-bridge's
 * build extends it (scripts/binding-list-attributes.mjs): the first call finds out, and without it
 * every call goes to tfjs-node's own kernel (undefined). So do the cases TensorFlow has no fused
 * op for: no bias, a PReLU or sigmoid activation, other dtypes, explicit padding.
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
    return b ? runTensorflowOp(backend as tf.KernelBackend, '_FusedConv2D', [x!, filter!, b], { ...fused, ...convolution, ...only })[0]! : undefined;
  });
}
