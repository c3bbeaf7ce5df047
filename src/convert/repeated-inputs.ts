import type { FieldNote } from './conversion-report.js';

/** One inbound tensor in tfjs's node format: [layer name, node index, tensor index, call kwargs]. */
type TfjsInboundTensor = [string, number, number, Record<string, unknown>];

/** KerasBridgeInputCopy.className (src/layers/keras3/repeated-input-copy.ts). */
const INPUT_COPY_CLASS = 'KerasBridgeInputCopy';

/** The name of the layer's k-th input copy: Keras forbids '/' in layer names, so it names no Keras layer. */
export function inputCopyName(layerName: string, k: number): string {
  return `${layerName}/repeated_input_${k}`;
}

const REASON =
  "the call reads one tensor in several slots; every slot after the first reads a KerasBridgeInputCopy of it instead, because " +
  "tfjs-layers 4.22's executor counts a tensor's consumers once per consuming layer but uncounts them once per slot, and " +
  'would dispose the tensor before its other consumers run (predict() and execute() would fail)';

type CopyLayer = { class_name: string; config: { name: string }; name: string; inbound_nodes: TfjsInboundTensor[][] };

export interface SplitRepeatedInputs {
  /** The layer's nodes, each repeated tensor read from a copy after its first slot. */
  nodes: TfjsInboundTensor[][];
  /** The copy layers to list before the layer (none when no node repeats a tensor). */
  copies: CopyLayer[];
}

/**
 * Gives every slot of a node after the first that reads the same tensor a copy of it: one
 * KerasBridgeInputCopy per copied slot, each called once (tfjs's execute() refuses models with a
 * layer called more than once). Self-attention `MultiHeadAttention()(x, x)` with `x` also feeding
 * the residual is the case that made it necessary; the rule is general, since the executor's count
 * is wrong for any layer that reads a tensor twice.
 */
export function splitRepeatedInputs(layerName: string, nodes: TfjsInboundTensor[][], notes: FieldNote[]): SplitRepeatedInputs {
  const copies: CopyLayer[] = [];
  const split = nodes.map((node, nodeIndex) => {
    const seen = new Set<string>();
    return node.map((tensor, slot) => {
      const [source, sourceNode, index, kwargs] = tensor;
      const key = JSON.stringify([source, sourceNode, index]);
      if (!seen.has(key)) {
        seen.add(key);
        return tensor;
      }
      const name = inputCopyName(layerName, copies.length);
      notes.push({ field: `inbound_nodes[${nodeIndex}][${slot}]`, action: 'changed', reason: REASON, from: [source, sourceNode, index], to: [name, 0, 0] });
      copies.push({ class_name: INPUT_COPY_CLASS, config: { name }, name, inbound_nodes: [[[source, sourceNode, index, {}]]] });
      return [name, 0, 0, kwargs] as TfjsInboundTensor;
    });
  });
  return copies.length === 0 ? { nodes, copies } : { nodes: split, copies };
}
