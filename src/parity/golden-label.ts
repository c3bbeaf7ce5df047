import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { absorbedLayerOf } from './rewritten-bundle.js';

/** For a layer that absorbed others (convert --fold-batch-norm): whose Keras output it is compared with. */
function absorbed(g: GoldenTensorRecord): string {
  const keras = absorbedLayerOf(g);
  return keras ? ` (as ${keras}, folded into it)` : '';
}

/** How reports name a golden tensor: "output 0 (dense_1)", "layer dense", "grad sequential/dense/kernel". */
export function labelOf(g: GoldenTensorRecord): string {
  switch (g.kind) {
    case 'output':
      return `output ${g.index} (${g.name})`;
    case 'layer_output':
      return `layer ${g.layer}${g.node > 0 || g.index > 0 ? ` [node ${g.node}, tensor ${g.index}]` : ''}${absorbed(g)}`;
    case 'grad_layer_output':
      return `grad layer ${g.layer}${g.node > 0 || g.index > 0 ? ` [node ${g.node}, tensor ${g.index}]` : ''}${absorbed(g)}`;
    case 'grad_input':
      return `grad input ${g.index} (${g.name})`;
    case 'grad_weight':
      return `grad ${g.path}`;
    case 'weight_after_pass':
      return `${g.path} after the pass`;
    case 'trained_weight':
      return `change of ${g.path}`;
    default:
      return `${g.kind} ${g.index}`;
  }
}
