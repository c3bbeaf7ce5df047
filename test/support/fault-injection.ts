import type { ConvertedModel } from '../../src/convert/convert-model.js';

/** A deliberate fault planted in a converted model at a known layer. */
export type Fault = (model: ConvertedModel) => ConvertedModel;

interface TopologyLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name?: string; layers?: TopologyLayer[] };
}

function withLayerConfig(model: ConvertedModel, layerName: string, edit: (config: Record<string, unknown>) => void): ConvertedModel {
  const topology = structuredClone(model.topology);
  const visit = (layers: TopologyLayer[] | undefined): boolean =>
    (layers ?? []).some((l) => (l.config.name === layerName ? (edit(l.config), true) : visit(l.config.layers)));
  if (!visit((topology.config as { layers?: TopologyLayer[] }).layers)) throw new Error(`no layer '${layerName}' to plant a fault in`);
  return { ...model, topology };
}

/** The layer computes another activation than Keras's. */
export const wrongActivation = (layer: string, activation: string): Fault => (model) =>
  withLayerConfig(model, layer, (config) => {
    config['activation'] = activation;
  });

/** A normalization layer with another epsilon than Keras's. */
export const changedEpsilon = (layer: string, epsilon: number): Fault => (model) =>
  withLayerConfig(model, layer, (config) => {
    config['epsilon'] = epsilon;
  });

/** A Dropout-family layer with another rate than Keras's: the wrong scaling and mask in training. */
export const changedRate = (layer: string, rate: number): Fault => (model) =>
  withLayerConfig(model, layer, (config) => {
    config['rate'] = rate;
  });

/** A BatchNormalization with another momentum than Keras's: right outputs, wrong moving statistics after a training pass. */
export const changedMomentum = (layer: string, momentum: number): Fault => (model) =>
  withLayerConfig(model, layer, (config) => {
    config['momentum'] = momentum;
  });

/** The layer converted to another tfjs class (same config and weights), e.g. tfjs-layers' own instead of keras-bridge's. */
export const replacedClass = (layer: string, className: string): Fault => (model) => {
  const topology = structuredClone(model.topology);
  const entry = ((topology.config as { layers?: TopologyLayer[] }).layers ?? []).find((l) => l.config.name === layer);
  if (!entry) throw new Error(`no layer '${layer}' to change the class of`);
  entry.class_name = className;
  return { ...model, topology };
};

/** A square kernel stored transposed: the classic weight-layout bug. */
export const transposedKernel = (layer: string): Fault => (model) => {
  let offset = 0;
  const data = model.weightData.slice();
  for (const spec of model.weightSpecs) {
    const bytes = spec.shape.reduce((n, d) => n * d, 1) * 4;
    if (spec.name === `${layer}/kernel`) {
      const [rows, cols] = spec.shape as [number, number];
      if (rows !== cols) throw new Error(`${spec.name} is not square`);
      const view = new Float32Array(model.weightData.buffer.slice(model.weightData.byteOffset + offset, model.weightData.byteOffset + offset + bytes));
      const transposed = new Float32Array(view.length);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) transposed[c * rows + r] = view[r * cols + c]!;
      data.set(new Uint8Array(transposed.buffer), offset);
      return { ...model, weightData: data };
    }
    offset += bytes;
  }
  throw new Error(`no weight ${layer}/kernel to transpose`);
};

/**
 * A grouped convolution's kernel [..k, in / groups, filters] with the filters of its first two
 * groups swapped: each group's weights are all there, in the wrong group's place.
 */
export const swappedGroupKernels = (layer: string, groups: number): Fault => (model) => {
  let offset = 0;
  const data = model.weightData.slice();
  for (const spec of model.weightSpecs) {
    const count = spec.shape.reduce((n, d) => n * d, 1);
    if (spec.name === `${layer}/kernel`) {
      const filters = spec.shape[spec.shape.length - 1]!;
      const perGroup = filters / groups;
      const start = model.weightData.byteOffset + offset;
      const kernel = new Float32Array(model.weightData.buffer.slice(start, start + count * 4));
      const swapped = kernel.slice();
      for (let row = 0; row < count / filters; row++) {
        for (let f = 0; f < perGroup; f++) {
          swapped[row * filters + f] = kernel[row * filters + perGroup + f]!;
          swapped[row * filters + perGroup + f] = kernel[row * filters + f]!;
        }
      }
      data.set(new Uint8Array(swapped.buffer), offset);
      return { ...model, weightData: data };
    }
    offset += count * 4;
  }
  throw new Error(`no weight ${layer}/kernel to swap the groups of`);
};
