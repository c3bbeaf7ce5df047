import assert from 'node:assert/strict';
import tf from '#tfjs';
import fc from 'fast-check';
import { useBackend } from '../../src/backends/index.js';
import { TFJS_MODEL_NODE_OFFSET } from '../../src/convert/functional-graph.js';
import { checkTopologyGraph } from '../../src/convert/topology-graph-check.js';
import { InputError, UnsupportedLayerError } from '../../src/errors.js';

// Properties of checkTopologyGraph, the check of a functional model's graph (tfjs topology form)
// before tfjs-layers builds it. Random DAGs of layer calls (shared layers, multi-input Add nodes,
// nested models) are accepted, and tfjs builds every small one the checker accepts, wired as the
// config says; a back edge, an unknown layer, an out-of-range node index or a call without inputs
// is refused with an InputError naming it. KERAS_BRIDGE_FUZZ=1 (npm run fuzz) runs 20 times as many.

const FUZZ = process.env['KERAS_BRIDGE_FUZZ'] ?? '';
const SCALE = /^\d+$/.test(FUZZ) && Number(FUZZ) > 0 ? 20 : 1;
const SOURCE = 'model.keras';

type Ref = [string, number, number, Record<string, unknown>];
interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: Ref[][];
}
interface Topology {
  class_name: string;
  config: { name: string; layers: LayerJson[]; input_layers: Array<[string, number, number]>; output_layers: Array<[string, number, number]> };
}

/** A random graph of layer calls: tensors 0..inputs-1 are the model's inputs, tensor inputs+c is call c's output. */
interface Graph {
  inputs: number;
  kinds: Array<'Dense' | 'Add' | 'Model'>;
  calls: Array<{ layer: number; inputs: number[] }>;
  /** Order of the non-input layers in the config's list (a permutation), or null for first-call order. */
  order: number[] | null;
}

/**
 * `distinct`: no call reads one tensor twice (at least two model inputs then). Repeated inputs are
 * the converter's to split (repeated-inputs.ts): tfjs's executor disposes such a tensor early.
 */
function graphArbitrary(maxLayers: number, maxExtraCalls: number, kinds: Array<'Dense' | 'Add' | 'Model'>, distinct = false): fc.Arbitrary<Graph> {
  return fc
    .record({
      inputs: fc.integer({ min: distinct ? 2 : 1, max: 3 }),
      kinds: fc.array(fc.constantFrom(...kinds), { minLength: 1, maxLength: maxLayers }),
      extra: fc.array(fc.tuple(fc.nat(), fc.array(fc.nat(), { minLength: 3, maxLength: 3 })), { maxLength: maxExtraCalls }),
      firsts: fc.array(fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), { minLength: maxLayers, maxLength: maxLayers }),
      arity: fc.array(fc.integer({ min: 2, max: 3 }), { minLength: maxLayers + maxExtraCalls, maxLength: maxLayers + maxExtraCalls }),
      shuffle: fc.option(fc.array(fc.nat(), { minLength: maxLayers, maxLength: maxLayers }), { nil: null }),
    })
    .map(({ inputs, kinds, extra, firsts, arity, shuffle }) => {
      // Each layer's first call in list order, then the extra calls of shared layers; every call's
      // inputs are tensors made before it, so the graph is acyclic by construction.
      const wanted = [...kinds.map((_, l) => ({ layer: l, picks: firsts[l]! })), ...extra.map(([l, picks]) => ({ layer: l % kinds.length, picks }))];
      const calls = wanted.map(({ layer, picks }, c) => {
        const available = inputs + c;
        const count = kinds[layer] === 'Add' ? arity[c]! : 1;
        const chosen = picks.slice(0, count).map((p) => p % available);
        if (!distinct) return { layer, inputs: chosen };
        const unique = [...new Set(chosen)];
        return { layer, inputs: unique.length >= Math.min(count, 2) ? unique : [unique[0]!, (unique[0]! + 1) % available] };
      });
      const order = shuffle ? kinds.map((_, l) => l).sort((a, b) => shuffle[a]! - shuffle[b]! || a - b) : null;
      return { inputs, kinds, calls, order };
    });
}

const layerName = (l: number) => `layer_${l}`;
const inputName = (i: number) => `input_${i}`;

/** An inner functional model [2] → Dense(2) → [2], a layer of the outer model. */
function nestedModel(name: string): Record<string, unknown> {
  return {
    name,
    layers: [
      { name: `${name}_in`, class_name: 'InputLayer', config: { name: `${name}_in`, batch_input_shape: [null, 2], dtype: 'float32', sparse: false }, inbound_nodes: [] },
      { name: `${name}_dense`, class_name: 'Dense', config: { name: `${name}_dense`, units: 2, activation: 'linear', use_bias: true }, inbound_nodes: [[[`${name}_in`, 0, 0, {}]]] },
    ],
    input_layers: [[`${name}_in`, 0, 0]],
    output_layers: [[`${name}_dense`, 0, 0]],
  };
}

/** Where each call lands: its layer's node index, as a tfjs node reference counts it. */
function nodeIndices(graph: Graph): number[] {
  const seen = new Map<number, number>();
  return graph.calls.map(({ layer }) => {
    const n = seen.get(layer) ?? 0;
    seen.set(layer, n + 1);
    return n + (graph.kinds[layer] === 'Model' ? TFJS_MODEL_NODE_OFFSET : 0);
  });
}

function toTopology(graph: Graph): Topology {
  const nodes = nodeIndices(graph);
  const ref = (tensor: number): Ref =>
    tensor < graph.inputs ? [inputName(tensor), 0, 0, {}] : [layerName(graph.calls[tensor - graph.inputs]!.layer), nodes[tensor - graph.inputs]!, 0, {}];
  const inputs: LayerJson[] = Array.from({ length: graph.inputs }, (_, i) => ({
    name: inputName(i),
    class_name: 'InputLayer',
    config: { name: inputName(i), batch_input_shape: [null, 2], dtype: 'float32', sparse: false },
    inbound_nodes: [],
  }));
  const callsOf = graph.kinds.map((): Graph['calls'] => []);
  for (const call of graph.calls) callsOf[call.layer]!.push(call);
  const layers: LayerJson[] = graph.kinds.map((kind, l) => ({
    name: layerName(l),
    class_name: kind,
    config:
      kind === 'Dense' ? { name: layerName(l), units: 2, activation: 'linear', use_bias: true } : kind === 'Add' ? { name: layerName(l) } : nestedModel(layerName(l)),
    inbound_nodes: callsOf[l]!.map((c) => c.inputs.map(ref)),
  }));
  const consumed = new Set(graph.calls.flatMap((c) => c.inputs));
  const sinks = Array.from({ length: graph.inputs + graph.calls.length }, (_, t) => t).filter((t) => !consumed.has(t));
  return {
    class_name: 'Model',
    config: {
      name: 'fuzzed',
      layers: [...inputs, ...(graph.order ?? graph.kinds.map((_, l) => l)).map((l) => layers[l]!)],
      input_layers: inputs.map((l) => [l.name, 0, 0]),
      output_layers: sinks.map((t) => ref(t).slice(0, 3) as [string, number, number]),
    },
  };
}

function refusedWith(topology: Topology, pattern: RegExp): void {
  assert.throws(
    () => checkTopologyGraph(topology, SOURCE),
    (e: Error) => {
      assert.ok(e instanceof InputError, `an InputError, not ${e.name}: ${e.message}`);
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith(`${SOURCE}: model 'fuzzed'`), e.message);
      return true;
    },
  );
}

/** The calls whose output depends on call c's, c included. */
function dependents(graph: Graph, c: number): number[] {
  const reached = new Set([c]);
  graph.calls.forEach((call, d) => {
    if (call.inputs.some((t) => t >= graph.inputs && reached.has(t - graph.inputs))) reached.add(d);
  });
  return [...reached];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('checkTopologyGraph: properties over random functional graphs', () => {
  const graphs = graphArbitrary(12, 8, ['Dense', 'Add', 'Model']);

  it('accepts every random DAG of unshared layers, in any layer order', () => {
    const unshared = graphArbitrary(12, 0, ['Dense', 'Add', 'Model']);
    fc.assert(fc.property(unshared, (graph) => checkTopologyGraph(toTopology(graph), SOURCE)), { numRuns: 300 * SCALE });
  });

  it('with shared layers, refuses only an order tfjs would build out of order (never an InputError)', () => {
    fc.assert(
      fc.property(graphs, (graph) => {
        try {
          checkTopologyGraph(toTopology(graph), SOURCE);
        } catch (e) {
          assert.ok(e instanceof UnsupportedLayerError, `${(e as Error).name}: ${(e as Error).message}`);
          assert.match(e.message, /tfjs-layers would build this call as node \d+ of the layer, not node \d+/);
        }
      }),
      { numRuns: 300 * SCALE },
    );
  });

  it('refuses a back edge that closes a cycle, naming the layers on it', () => {
    fc.assert(
      fc.property(graphs, fc.nat(), fc.nat(), (graph, pickCall, pickTarget) => {
        const c = pickCall % graph.calls.length;
        const closing = dependents(graph, c);
        const d = closing[pickTarget % closing.length]!;
        const cyclic = { ...graph, calls: graph.calls.map((call, i) => (i === c ? { ...call, inputs: [graph.inputs + d, ...call.inputs.slice(1)] } : call)) };
        refusedWith(toTopology(cyclic), new RegExp(`cycle \\(.*'${layerName(graph.calls[c]!.layer)}'`));
      }),
      { numRuns: 300 * SCALE },
    );
  });

  it('refuses a reference to an unknown layer, naming it and where it is', () => {
    fc.assert(
      fc.property(graphs, fc.nat(), fc.nat(), fc.stringMatching(/^[a-z_]{1,12}$/), (graph, pickLayer, pickRef, suffix) => {
        const topology = toTopology(graph);
        const called = topology.config.layers.filter((l) => l.inbound_nodes.length > 0);
        const layer = called[pickLayer % called.length]!;
        const node = layer.inbound_nodes[pickRef % layer.inbound_nodes.length]!;
        const missing = `missing_${suffix}`;
        node[0] = [missing, 0, 0, {}];
        refusedWith(topology, new RegExp(`layer '${layer.name}', inbound_nodes\\[\\d+\\]\\[0\\]: refers to layer '${missing}', but the model has no layer of that name`));
      }),
      { numRuns: 200 * SCALE },
    );
  });

  it('refuses a node index past the calls of the layer it names, naming both', () => {
    fc.assert(
      fc.property(graphs, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 1000 }), (graph, pickLayer, pickRef, past) => {
        const topology = toTopology(graph);
        const called = topology.config.layers.filter((l) => l.inbound_nodes.length > 0);
        const layer = called[pickLayer % called.length]!;
        const node = layer.inbound_nodes[pickRef % layer.inbound_nodes.length]!;
        const target = topology.config.layers.find((l) => l.name === node[0]![0])!;
        const count = target.class_name === 'InputLayer' ? 1 : target.inbound_nodes.length + (target.class_name === 'Model' ? TFJS_MODEL_NODE_OFFSET : 0);
        node[0]![1] = count + past;
        refusedWith(topology, new RegExp(`node index ${count + past} of layer '${escape(target.name)}', which has ${count} node`));
      }),
      { numRuns: 200 * SCALE },
    );
  });

  it('refuses a call without input tensors (tfjs would shift the layer\'s later nodes)', () => {
    fc.assert(
      fc.property(graphs, fc.nat(), (graph, pickLayer) => {
        const topology = toTopology(graph);
        const called = topology.config.layers.filter((l) => l.inbound_nodes.length > 0);
        const layer = called[pickLayer % called.length]!;
        layer.inbound_nodes[0] = [];
        refusedWith(topology, new RegExp(`layer '${layer.name}', inbound_nodes\\[0\\]: a call with no input tensors`));
      }),
      { numRuns: 100 * SCALE },
    );
  });

  it('finishes quickly on large graphs (2000 layers, 3000 calls)', () => {
    fc.assert(
      fc.property(graphArbitrary(2000, 1000, ['Dense', 'Add']), (graph) => {
        const topology = toTopology(graph);
        const started = performance.now();
        try {
          checkTopologyGraph(topology, SOURCE);
        } catch (e) {
          if (!(e instanceof UnsupportedLayerError)) throw e; // a shared layer built out of order
        }
        const took = performance.now() - started;
        assert.ok(took < 2000, `${graph.kinds.length} layers, ${graph.calls.length} calls: ${took.toFixed(0)} ms`);
      }),
      { numRuns: 5 * SCALE },
    );
  });

  it('finishes quickly on a 20000-layer chain, and refuses it closed into a cycle', () => {
    const graph: Graph = { inputs: 1, kinds: Array.from({ length: 20_000 }, () => 'Dense'), calls: [], order: null };
    graph.calls = graph.kinds.map((_, c) => ({ layer: c, inputs: [c] }));
    const chain = toTopology(graph);
    graph.calls[0] = { layer: 0, inputs: [graph.calls.length] };
    const cycle = toTopology(graph);
    const started = performance.now();
    checkTopologyGraph(chain, SOURCE);
    refusedWith(cycle, /cycle/);
    const took = performance.now() - started;
    assert.ok(took < 5000, `${took.toFixed(0)} ms`);
  });

  describe('tfjs-layers builds every small graph the checker accepts, wired as the config says', () => {
    before(async () => useBackend('cpu'));

    // Both ways: what the checker accepts, tfjs builds as written; what it refuses as built out of
    // order, tfjs does build miswired (a shared layer's calls swapped).
    it(`random graphs of Dense(2), Add and nested models over [2] inputs`, async () => {
      await fc.assert(
        fc.asyncProperty(graphArbitrary(6, 4, ['Dense', 'Add', 'Model'], true), async (graph) => {
          const topology = toTopology(graph);
          let accepted = true;
          try {
            checkTopologyGraph(topology, SOURCE);
          } catch (e) {
            if (!(e instanceof UnsupportedLayerError)) throw e;
            accepted = false;
          }
          const model = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
          try {
            const miswired = topology.config.layers.filter((layer) => {
              if (layer.class_name === 'InputLayer') return false;
              const built = model.getLayer(layer.name);
              const offset = layer.class_name === 'Model' ? TFJS_MODEL_NODE_OFFSET : 0;
              const wiring = built.inboundNodes.slice(offset).map((node) => node.inboundLayers.map((l, i) => [l.name, node.nodeIndices[i], node.tensorIndices[i]]));
              return JSON.stringify(wiring) !== JSON.stringify(layer.inbound_nodes.map((node) => node.map((ref) => ref.slice(0, 3))));
            });
            assert.equal(miswired.length > 0, !accepted, accepted ? `accepted, but tfjs miswired ${miswired.map((l) => l.name).join(', ')}` : 'refused, but tfjs wired it as written');
            const x = Array.from({ length: graph.inputs }, () => tf.ones([1, 2]));
            const y = model.predict(x.length === 1 ? x[0]! : x);
            tf.dispose([x, y]);
          } finally {
            model.dispose();
          }
        }),
        { numRuns: 100 * SCALE },
      );
    });
  });
});
