import type { GoldenKind } from '../keras/bundle-manifest.js';
import type { TensorComparison } from './compare-tensors.js';

/** Results are plain data (saved as JSON, printed by report/). */
export interface TensorParity {
  kind: Exclude<GoldenKind, 'input' | 'cotangent'>;
  /** "output 0 (dense_1)", "layer dense", "grad input 0 (input_layer)", "grad sequential/dense/kernel" */
  label: string;
  layer: string | null;
  /** 'keras', 'autodiff' or 'finite_difference': where the expected value came from. */
  source: string;
  /** The exporter's estimate of a finite-difference reference's own error, added to atol. */
  referenceError: number | null;
  comparison: TensorComparison;
}

export interface BackendParity {
  backend: string;
  passed: boolean;
  /** The first layer out of tolerance whose inputs were within it (first-diverging-layer.ts). */
  firstDivergingLayer: string | null;
  seconds: number;
  tensors: TensorParity[];
  /** Layer-isolated mode: each layer run alone on Keras's outputs of the layers feeding it. */
  isolated: {
    tensors: TensorParity[];
    /** Layers out of tolerance when run alone, in layer order: each is itself at fault. */
    failingLayers: string[];
    skipped: Array<{ layer: string; reason: string }>;
  };
}

export interface ModelParity {
  bundle: string;
  /** The bundle directory's name, which tells models apart in reports. */
  model: string;
  /** The model's name in Keras. */
  kerasModelName: string;
  /** Its layers in Keras's order (graph order), for per-layer charts. */
  layerOrder: string[];
  passed: boolean;
  backends: BackendParity[];
}

export interface ParityRun {
  schema: 'keras-bridge-parity';
  schemaVersion: 1;
  passed: boolean;
  models: ModelParity[];
  /** Backends asked for that could not run, with why. */
  unavailableBackends: { backend: string; reason: string }[];
}
