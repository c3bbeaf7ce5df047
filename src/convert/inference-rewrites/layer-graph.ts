import type { TfjsTopology } from '../translate-model.js';

/** One layer of a tfjs topology: model.json's `config.layers[i]`. */
export interface TopologyLayer {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  /** Functional models only: each call of the layer, its inputs as [layer, node, tensor, kwargs]. */
  inbound_nodes?: Array<Array<[string, number, number, Record<string, unknown>?]>>;
}

/**
 * The top-level layers of a Sequential or functional tfjs topology, as a graph a rewrite can
 * edit: which layer feeds which, and removing a layer whose every consumer then reads another's
 * output. Layers inside nested models are not visited.
 */
export class LayerGraph {
  readonly sequential: boolean;
  private readonly layers: TopologyLayer[];
  private readonly outputs: Array<[string, number, number]>;

  constructor(readonly topology: TfjsTopology) {
    this.sequential = topology.class_name === 'Sequential';
    this.layers = (topology.config['layers'] as TopologyLayer[] | undefined) ?? [];
    this.outputs = (topology.config['output_layers'] as Array<[string, number, number]> | undefined) ?? [];
  }

  all(): readonly TopologyLayer[] {
    return this.layers;
  }

  nameOf(layer: TopologyLayer): string {
    return String(layer.config['name'] ?? layer.name);
  }

  /**
   * The one layer that reads `layer`'s output, when exactly one call of one layer does, on its
   * sole input and with no keyword arguments that change it, and the output is not the model's.
   */
  soleConsumer(layer: TopologyLayer): TopologyLayer | undefined {
    const name = this.nameOf(layer);
    if (this.sequential) {
      const at = this.layers.indexOf(layer);
      return at >= 0 && at < this.layers.length - 1 ? this.layers[at + 1] : undefined;
    }
    if ((layer.inbound_nodes?.length ?? 0) !== 1 || this.outputs.some(([n]) => n === name)) return undefined;
    const readers = this.layers.flatMap((l) => (l.inbound_nodes ?? []).flatMap((node) => node.filter(([n]) => n === name).map(() => ({ l, node }))));
    if (readers.length !== 1) return undefined;
    const { l, node } = readers[0]!;
    const [, nodeIndex, tensorIndex, kwargs] = node[0]!;
    const changesCall = Object.entries(kwargs ?? {}).some(([key, value]) => key !== 'mask' && value !== null && value !== undefined);
    if (node.length !== 1 || nodeIndex !== 0 || tensorIndex !== 0 || changesCall || (l.inbound_nodes?.length ?? 0) !== 1) return undefined;
    return l;
  }

  /** Removes `layer`, whose input is `into`'s output: what read `layer`'s output reads `into`'s. */
  removeInto(layer: TopologyLayer, into: TopologyLayer): void {
    const removed = this.nameOf(layer);
    const target = this.nameOf(into);
    this.layers.splice(this.layers.indexOf(layer), 1);
    for (const l of this.layers) {
      for (const node of l.inbound_nodes ?? []) for (const input of node) if (input[0] === removed) input[0] = target;
    }
    for (const output of this.outputs) if (output[0] === removed) output[0] = target;
  }
}
