import { disposeModel } from '../parity/dispose-model.js';
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { statSync } from 'node:fs';
import path from 'node:path';
import tf from '#tfjs';
import { useBackend, type BackendName } from '../backends/index.js';
import { convertBundle } from '../convert/convert-bundle.js';
import { toModelArtifacts, type ConvertedModel } from '../convert/convert-model.js';
import { bundleGolden, loadBundle, type Bundle } from '../keras/bundle.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';
import type { RouteName } from '../convert/route-inputs.js';
import { checkBundleParityCases } from '../parity/check-parity.js';
import { goldenTensor } from '../parity/golden-tensor.js';
import { layerCalls } from '../parity/layer-inputs.js';
import { backendVerdict } from '../parity/parity-verdict.js';

export interface LayerTestOptions {
  /** The tfjs class name the layer is registered under (tf.serialization.registerClass / registerLayer). */
  className: string;
  /**
   * A bundle written by `keras-bridge export` whose converted model has a layer of this class: its
   * config, Keras's weights and shapes for that layer, and the goldens parity is checked on.
   */
  bundleDir: string;
  /**
   * Which layer of the bundle: its name, or the path to it (`outer/inner`: a layer inside the nested
   * model a custom layer converts to; `rnn/cell`: a recurrent layer's cell). Default: the first layer
   * of `className` at top level, else inside a nested model, else an RNN's cell.
   */
  layerName?: string;
  /** The custom-layer routes conversion may use (as `--routes`); default: all. */
  routes?: readonly RouteName[];
  /** Backends parity runs on (the other checks run on cpu). Default: ['cpu']. */
  backends?: BackendName[];
  /** Skip the parity step (the caller checks the bundle's parity elsewhere). Default: false. */
  skipParity?: boolean;
}

/** What runLayerTest checked, for a report. */
export interface LayerTestResult {
  className: string;
  bundleDir: string;
  /** The layer's path: its name at top level, `outer/inner` inside a nested model, `rnn/cell` for a cell. */
  layerName: string;
  /** Where the layer sits in the converted model: at top level, inside a nested model, or an RNN's cell. */
  place: LayerPlace;
  /**
   * Whether the Keras model has a layer of this name, with its own weights, shapes and goldens;
   * false for an operation node or keras-bridge's plumbing, which parity checks only through the
   * layers and outputs downstream of it.
   */
  kerasCounterpart: boolean;
  /** The checks that ran, each passed (a failed one throws). */
  checks: string[];
}

/**
 * Keras's `run_layer_test` for a tfjs layer class of keras-bridge's or your own: the layer is taken
 * from the converted model of a bundle Keras exported (which fixes its config, weights and input),
 * and must
 *  1. be an instance of the class registered under `className`;
 *  2. survive getConfig() → fromConfig(): the same config again, and the same output on the same
 *     input with the same weights;
 *  3. hold the weights Keras's layer holds: the same count, names, shapes and trainable split;
 *  4. compute the output shapes Keras recorded, and the ones its call actually produces;
 *  5. match Keras's goldens on each backend (end to end, the layer alone, gradients), with at least
 *     one tensor of this layer compared.
 * Resolves with the checks that ran; otherwise throws one AssertionError listing every failure.
 * Register your layer first (import the module that calls registerLayer).
 *
 *   import { runLayerTest } from 'keras-bridge/testing';
 *   import './my-layers.js';
 *   it('MyScale', () => runLayerTest({ className: 'MyScale', bundleDir: 'bundles/my_scale_model' }));
 */
export async function runLayerTest(options: LayerTestOptions): Promise<LayerTestResult> {
  const { className, bundleDir } = options;
  const backends = options.backends ?? ['cpu'];
  // Checked first: conversion would otherwise generate a class of that name from the Python source (route 1).
  if (!tf.serialization.SerializationMap.getMap().classNameMap[className]) {
    throw new AssertionError({ message: `${className}: no class is registered under that name; import the module that registers it (registerLayer) first` });
  }
  const bundle = await loadBundle(bundleDir);
  const routes = options.routes ? { routes: options.routes } : {};
  const converted = await convertBundle(bundle, routes);
  const failures: string[] = [];
  const checks: string[] = [];
  const check = (name: string, problems: string[]): void => {
    checks.push(name);
    failures.push(...problems.map((p) => `${name}: ${p}`));
  };

  let found: FoundLayer | undefined;
  let kerasCounterpart = false;
  // The layer's own checks run on cpu (exact comparisons of the copy); parity on `backends`.
  await useBackend('cpu');
  const model = await tf.loadLayersModel(tf.io.fromMemory(toModelArtifacts(converted)));
  try {
    found = options.layerName !== undefined ? layerAt(model, options.layerName) : firstLayerOf(model, className);
    const where = `${className} (bundle ${bundleDir}, layer '${found?.path ?? options.layerName ?? '?'}')`;
    if (!found) throw new AssertionError({ message: `${where}: the converted model has ${options.layerName !== undefined ? 'no such layer' : `no layer of class ${className}`}` });
    const { layer } = found;
    const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
    check('registered class', registeredClassProblems(layer, className, registered?.[0]));
    const kerasLayer = found.place === 'top-level' ? bundle.manifest.layers.find((l) => l.name === found!.path) : undefined;
    kerasCounterpart = kerasLayer !== undefined;
    // A layer of ours with no Keras layer of its name (an operation node, keras-bridge's plumbing)
    // holds no weights, as Keras's operation nodes hold none.
    check('weights', weightProblems(layer, kerasWeightsOf(found, bundle.manifest)));
    const inputs = found.place === 'cell' ? cellStepInputs(bundle, found) : layerInputs(bundle, layer, found.place === 'top-level');
    try {
      const output = layer.apply(oneOrMany(inputs), { training: false }) as tf.Tensor | tf.Tensor[];
      try {
        check('output shapes', found.place === 'cell' ? cellShapeProblems(layer, inputs, output) : shapeProblems(layer, kerasLayer?.output_shapes, output));
        if (registered) check('config round trip', await roundTripProblems(layer, registered, inputs, output));
      } finally {
        tf.dispose(output);
      }
    } finally {
      tf.dispose(inputs);
    }
  } finally {
    disposeModel(model);
  }

  // A nested layer or a cell is compared through the top-level layer holding it.
  const compared = kerasCounterpart || found.place !== 'top-level' ? found.topLevel : null;
  if (!options.skipParity) check(`parity (${backends.join(', ')})`, await parityProblems(bundleDir, compared, backends, routes));
  if (failures.length > 0) throw new AssertionError({ message: `${className} (bundle ${bundleDir}, layer '${found.path}') failed:\n  ${failures.join('\n  ')}` });
  return { className, bundleDir, layerName: found.path, place: found.place, kerasCounterpart, checks };
}

/**
 * Where a layer under test sits: `top-level` in the converted model; `nested` inside the nested
 * model a custom layer converts to (route 2: its nodes are named by their Keras paths); `cell`: a
 * recurrent layer's cell (`rnn.cell`), which holds the recurrent layer's weights.
 */
export type LayerPlace = 'top-level' | 'nested' | 'cell';

interface FoundLayer {
  layer: tf.layers.Layer;
  /** `name`, `outer/inner` or `rnn/cell`. */
  path: string;
  place: LayerPlace;
  /** The top-level layer holding it (itself at top level), and its name. */
  holder: tf.layers.Layer;
  topLevel: string;
}

/** A recurrent layer's cell, if `layer` is one (tfjs-layers' RNN and the layers built on it). */
function cellOf(layer: tf.layers.Layer): tf.layers.Layer | undefined {
  const cell = (layer as unknown as { cell?: unknown }).cell;
  return cell instanceof tf.layers.Layer ? cell : undefined;
}

const isModel = (layer: tf.layers.Layer): layer is tf.LayersModel => layer instanceof tf.LayersModel;

/** Every layer a test may pick, top-level ones first, then those inside nested models, then cells. */
function candidateLayers(model: tf.LayersModel): FoundLayer[] {
  const top = model.layers.map((layer): FoundLayer => ({ layer, path: layer.name, place: 'top-level', holder: layer, topLevel: layer.name }));
  const nested = model.layers
    .filter(isModel)
    .flatMap((outer) => outer.layers.map((layer): FoundLayer => ({ layer, path: `${outer.name}/${layer.name}`, place: 'nested', holder: outer, topLevel: outer.name })));
  const cells = model.layers.flatMap((rnn) => {
    const cell = cellOf(rnn);
    return cell ? [{ layer: cell, path: `${rnn.name}/cell`, place: 'cell', holder: rnn, topLevel: rnn.name } satisfies FoundLayer] : [];
  });
  return [...top, ...nested, ...cells];
}

function firstLayerOf(model: tf.LayersModel, className: string): FoundLayer | undefined {
  return candidateLayers(model).find((c) => c.layer.getClassName() === className);
}

function layerAt(model: tf.LayersModel, layerPath: string): FoundLayer | undefined {
  // A nested node's own name may hold a slash (`block/dense`): match whole paths, not segments.
  return candidateLayers(model).find((c) => c.path === layerPath);
}

/**
 * The Keras weights a layer must hold: a top-level layer's, by its name; a nested node's, those
 * whose Keras path lies directly under the node's name (route 2 names nodes by Keras path); a
 * cell's, all of its recurrent layer's.
 */
function kerasWeightsOf(found: FoundLayer, manifest: BundleManifest): BundleManifest['layers'][number]['weights'] {
  const byName = (name: string) => manifest.layers.find((l) => l.name === name)?.weights ?? [];
  if (found.place !== 'nested') return byName(found.topLevel);
  const node = found.layer.name;
  const parentOf = (weightPath: string) => weightPath.slice(0, weightPath.lastIndexOf('/'));
  return manifest.layers.flatMap((l) => l.weights).filter((w) => w.path !== undefined && (parentOf(w.path) === node || parentOf(w.path).endsWith(`/${node}`)));
}

/**
 * The layer classes of a bundle's converted model, top-level layers only (not those inside a
 * wrapper), each with the names of its layers in order. Use it to find a bundle for runLayerTest.
 */
export async function layerClassesOfBundle(bundleDir: string): Promise<Map<string, string[]>> {
  return topLevelLayersOf(await convertBundle(await loadBundle(bundleDir, { goldens: false })));
}

/** A bundle's weight and golden bytes on disk: how large a parity run on it is. */
export function bundleBytes(bundleDir: string): number {
  const manifest = path.join(bundleDir, 'manifest.json');
  return ['weights.bin', 'goldens.bin'].reduce((n, file) => {
    try {
      return n + statSync(path.join(bundleDir, file)).size;
    } catch {
      return n;
    }
  }, statSync(manifest).size);
}

function topLevelLayersOf(converted: ConvertedModel): Map<string, string[]> {
  const layers = (converted.topology.config['layers'] ?? []) as Array<{ class_name: string; config: { name: string } }>;
  const byClass = new Map<string, string[]>();
  for (const entry of layers) byClass.set(entry.class_name, [...(byClass.get(entry.class_name) ?? []), entry.config.name]);
  return byClass;
}

type Registered = [tf.serialization.SerializableConstructor<tf.serialization.Serializable>, tf.serialization.FromConfigMethod<tf.serialization.Serializable>];

function registeredClassProblems(layer: tf.layers.Layer, className: string, cls: Registered[0] | undefined): string[] {
  if (!cls) return [`no class is registered under '${className}'`];
  const problems: string[] = [];
  if (!(layer instanceof cls)) problems.push(`the loaded layer is a ${(layer as object).constructor.name}, not the class registered as '${className}'`);
  if (layer.getClassName() !== className) problems.push(`getClassName() is '${layer.getClassName()}'`);
  return problems;
}

/** Keras's weights of the layer against ours, in order: Keras's name is the last part of ours. */
function weightProblems(layer: tf.layers.Layer, keras: BundleManifest['layers'][number]['weights']): string[] {
  const ours = layer.weights;
  const describe = (w: { name: string; shape: readonly (number | null)[]; trainable: boolean }) => `${w.name} ${JSON.stringify(w.shape)}${w.trainable ? '' : ' (non-trainable)'}`;
  const problems: string[] = [];
  if (ours.length !== keras.length) {
    problems.push(`${ours.length} weights (${ours.map((w) => describe({ name: w.originalName, shape: w.shape, trainable: w.trainable })).join(', ')}), Keras has ${keras.length} (${keras.map(describe).join(', ')})`);
    return problems;
  }
  keras.forEach((k, i) => {
    const w = ours[i]!;
    const ourName = w.originalName;
    // Keras names a weight added without a name 'variable' (then 'variable_1', ...): any name of ours fits.
    const unnamed = /^variable(_\d+)?$/.test(k.name);
    if (!unnamed && !(ourName === k.name || ourName.endsWith(`/${k.name}`))) problems.push(`weight ${i} is '${ourName}', Keras's is '${k.name}'`);
    if (!isDeepStrictEqual([...w.shape], k.shape)) problems.push(`weight ${i} '${k.name}' has shape ${JSON.stringify(w.shape)}, Keras's ${JSON.stringify(k.shape)}`);
    if (w.trainable !== k.trainable) problems.push(`weight ${i} '${k.name}' is ${w.trainable ? '' : 'non-'}trainable, Keras's is ${k.trainable ? '' : 'non-'}trainable`);
  });
  const kerasTrainable = keras.filter((k) => k.trainable).length;
  if (layer.trainableWeights.length !== kerasTrainable || layer.nonTrainableWeights.length !== keras.length - kerasTrainable) {
    problems.push(`${layer.trainableWeights.length} trainable and ${layer.nonTrainableWeights.length} non-trainable weights, Keras has ${kerasTrainable} and ${keras.length - kerasTrainable}`);
  }
  return problems;
}

/**
 * The inputs the layer is checked on: Keras's own (the goldens of the tensors feeding it) where the
 * bundle has them for every input, else random values of the shapes the layer is called with.
 */
function layerInputs(bundle: Bundle, layer: tf.layers.Layer, topLevel: boolean): tf.Tensor[] {
  const node = layer.inboundNodes[0]!;
  const arity = node.inputTensors.length;
  if (!topLevel) return randomInputs(bundle, node.inputTensors);
  const goldens = bundle.manifest.goldens.tensors;
  const inputIndex = new Map(bundle.manifest.inputs.map((input, i) => [input.name, i]));
  const call = layerCalls(bundle.modelConfig).get(layer.name);
  const feeding = (call?.inputs ?? []).map(([producer, nodeIndex, tensor]) =>
    inputIndex.has(producer)
      ? goldens.find((g) => g.kind === 'input' && g.index === inputIndex.get(producer))
      : goldens.find((g) => g.kind === 'layer_output' && g.layer === producer && g.node === nodeIndex && g.index === tensor),
  );
  if (call && !call.hasMask && feeding.length === arity && feeding.every((g) => g)) return feeding.map((g) => goldenTensor(bundleGolden(bundle, g!)));
  return randomInputs(bundle, node.inputTensors);
}

/** Seeded random values of the shapes (the bundle's batch size where open) and dtypes of `tensors`. */
function randomInputs(bundle: Bundle, tensors: readonly tf.SymbolicTensor[]): tf.Tensor[] {
  const batch = bundle.manifest.batch_size;
  return tensors.map((t, i) => {
    const shape = t.shape.map((d) => d ?? batch);
    return t.dtype === 'int32' ? tf.randomUniform(shape, 0, 2, 'int32', 1234 + i) : tf.randomNormal(shape, 0, 1, 'float32', 1234 + i);
  });
}

/**
 * One step of a cell: the recurrent layer's input at its first timestep (Keras's golden where the
 * bundle has it), and zero states of the cell's state sizes, as the layer starts.
 */
function cellStepInputs(bundle: Bundle, found: FoundLayer): tf.Tensor[] {
  return tf.tidy(() => {
    const [sequence] = layerInputs(bundle, found.holder, true);
    const step = sequence!.slice([0, 0], [sequence!.shape[0]!, 1]).squeeze([1]);
    const batch = step.shape[0]!;
    return [step, ...stateSizes(found.layer).map((size) => tf.zeros([batch, size]))];
  });
}

/** A cell's state sizes (tfjs cells declare `stateSize`: a number, or one per state). */
function stateSizes(cell: tf.layers.Layer): number[] {
  const size = (cell as unknown as { stateSize: number | number[] }).stateSize;
  return Array.isArray(size) ? size : [size];
}

/** A cell's step returns its output and each new state: [batch, units] and [batch, state size] each. */
function cellShapeProblems(cell: tf.layers.Layer, inputs: tf.Tensor[], output: tf.Tensor | tf.Tensor[]): string[] {
  const outputs = Array.isArray(output) ? output : [output];
  const batch = inputs[0]!.shape[0]!;
  const sizes = stateSizes(cell);
  const expected = [[batch, sizes[0]!], ...sizes.map((s) => [batch, s])];
  const actual = outputs.map((t) => t.shape);
  return isDeepStrictEqual(actual, expected) ? [] : [`a step returned shapes ${JSON.stringify(actual)}; the output and each new state should be ${JSON.stringify(expected)} (stateSize ${JSON.stringify(sizes)})`];
}

/** computeOutputShape on the shapes the layer was built with against Keras's, and against what its call returned. */
function shapeProblems(layer: tf.layers.Layer, kerasOutputShapes: Array<Array<number | null>> | undefined, output: tf.Tensor | tf.Tensor[]): string[] {
  const problems: string[] = [];
  const built = builtShape(layer);
  const computed = asList(layer.computeOutputShape(built) as tf.Shape | tf.Shape[]);
  // A dimension Keras leaves open (null) may be known to ours.
  const matches = (ours: tf.Shape[], keras: Array<Array<number | null>>) =>
    ours.length === keras.length && ours.every((s, i) => s.length === keras[i]!.length && s.every((d, j) => keras[i]![j] === null || d === keras[i]![j]));
  if (kerasOutputShapes && !matches(computed, kerasOutputShapes)) {
    problems.push(`computeOutputShape(${JSON.stringify(built)}) is ${JSON.stringify(computed)}, Keras's output shapes are ${JSON.stringify(kerasOutputShapes)}`);
  }
  const actual = (Array.isArray(output) ? output : [output]).map((t) => t.shape);
  const batch = actual[0]?.[0] ?? null;
  const expected = computed.map((s) => s.map((d, i) => (d === null && i === 0 ? batch : d)));
  const fits = expected.length === actual.length && expected.every((s, i) => s.length === actual[i]!.length && s.every((d, j) => d === null || d === actual[i]![j]));
  if (!fits) problems.push(`the call returned shapes ${JSON.stringify(actual)}, computeOutputShape says ${JSON.stringify(computed)}`);
  return problems;
}

/** The shape(s) the layer was called with in the model, as tfjs hands them to computeOutputShape and build: one shape for one input. */
function builtShape(layer: tf.layers.Layer): tf.Shape | tf.Shape[] {
  const shapes = layer.inboundNodes[0]!.inputTensors.map((t) => t.shape);
  return shapes.length === 1 ? shapes[0]! : shapes;
}

/** A layer's call argument: one tensor for one input, as tfjs-layers' model passes it. */
const oneOrMany = (tensors: tf.Tensor[]): tf.Tensor | tf.Tensor[] => (tensors.length === 1 ? tensors[0]! : tensors);

const asList = (shape: tf.Shape | tf.Shape[]): tf.Shape[] => (Array.isArray(shape[0]) || shape.length === 0 ? (shape as tf.Shape[]) : [shape as tf.Shape]);

/** getConfig() → fromConfig(): the same config, and the same output on the same input and weights. */
async function roundTripProblems(layer: tf.layers.Layer, [cls, fromConfig]: Registered, inputs: tf.Tensor[], output: tf.Tensor | tf.Tensor[]): Promise<string[]> {
  const config = layer.getConfig();
  const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;
  let copy: tf.layers.Layer;
  try {
    copy = fromConfig(cls, asJson(config) as tf.serialization.ConfigDict) as tf.layers.Layer;
  } catch (e) {
    return [`fromConfig(getConfig()) threw: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  try {
    const again = copy.getConfig();
    if (!isDeepStrictEqual(asJson(again), asJson(config))) {
      const fields = [...new Set([...Object.keys(config), ...Object.keys(again)])].filter((k) => !isDeepStrictEqual(asJson(config[k] ?? null), asJson(again[k] ?? null)));
      problems.push(`the copy's config differs in ${fields.map((f) => `'${f}' (${JSON.stringify(config[f])} → ${JSON.stringify(again[f])})`).join(', ')}`);
    }
    tf.dispose(copy.apply(oneOrMany(inputs), { training: false }) as tf.Tensor | tf.Tensor[]); // builds it
    copy.setWeights(layer.getWeights());
    const copied = tf.tidy(() => copy.apply(oneOrMany(inputs), { training: false }) as tf.Tensor | tf.Tensor[]);
    const a = Array.isArray(output) ? output : [output];
    const b = Array.isArray(copied) ? copied : [copied];
    if (a.length !== b.length) problems.push(`the copy returns ${b.length} tensors, the layer ${a.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const [x, y] = [await a[i]!.data(), await b[i]!.data()];
      const same = x.length === y.length && x.every((v, j) => Object.is(v, y[j]) || v === y[j]);
      if (!same) problems.push(`output ${i} of the copy differs from the layer's on the same input and weights`);
    }
    tf.dispose(copied);
  } catch (e) {
    problems.push(`running the copy threw: ${(e as Error).message}`);
  } finally {
    // Layer.dispose() refuses a layer never called symbolically: free its variables instead.
    for (const w of copy.weights) w.dispose();
  }
  return problems;
}

/**
 * The bundle's parity on `backends`: nothing out of tolerance, and at least one tensor of the layer
 * compared (with `layerName` null, one of the model's outputs).
 */
async function parityProblems(bundleDir: string, layerName: string | null, backends: BackendName[], routes: { routes?: readonly RouteName[] }): Promise<string[]> {
  const problems: string[] = [];
  for (const result of await checkBundleParityCases(bundleDir, { backends, ...routes })) {
    for (const b of result.backends) {
      if (b.runError !== undefined) {
        problems.push(`${result.model} ${b.backend}: could not run: ${b.runError}`);
        continue;
      }
      const verdict = backendVerdict(b);
      problems.push(...verdict.failures.map((f) => `${result.model} ${b.backend} ${f.mode} ${f.tensor.label}: max abs error ${f.tensor.comparison.maxAbsError}`));
      const ofLayer = (c: (typeof verdict.compared)[number]) => (layerName === null ? c.tensor.kind === 'output' : c.tensor.layer === layerName);
      if (!verdict.compared.some(ofLayer)) problems.push(`${result.model} ${b.backend}: no ${layerName === null ? 'output' : `tensor of layer '${layerName}'`} was compared`);
    }
  }
  return problems;
}
