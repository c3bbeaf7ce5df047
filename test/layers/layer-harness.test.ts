import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import tf from '#tfjs';
import { bundleBytes, layerClassesOfBundle, runLayerTest } from '../../src/testing/index.js';
import type { RouteName } from '../../src/convert/route-inputs.js';
import { cachedExport, type CachedExport } from '../support/cached-export.js';
import { FIXTURE_BUNDLES, REPO_ROOT, fixtureBundle } from '../support/paths.js';

// Every layer class src/layers registers goes through runLayerTest (src/testing/layer-harness.ts):
// config round trip, weights against Keras's, output shapes, and parity against Keras's goldens, on
// the smallest zoo bundle whose converted model has a top-level layer of the class, or the bundle
// NOT_IN_ZOO names (cpu only: the layer-zoo test already runs every zoo bundle on every backend).
const LAYERS = fileURLToPath(new URL('../../src/layers', import.meta.url));
const ZOO = path.join(FIXTURE_BUNDLES, 'zoo');

/**
 * The layer classes with no zoo bundle holding them at top level, with why and the bundle the
 * harness runs them on instead: a fixture bundle (`bundle`), or one the Python exporter writes from
 * a fixtures/models module and caches (`export`, with the custom-layer `routes` that make the
 * class). runLayerTest finds each where it sits: at top level, inside the nested model a custom
 * layer converts to, or as a recurrent layer's cell. A class a zoo bundle holds must not be listed.
 */
const NOT_IN_ZOO: Record<string, { why: string; bundle?: string; export?: CachedExport; routes?: RouteName[] }> = {
  SwishActivation: { why: "the seed document's custom layer: its bundle is the seed fixture, not a zoo model", bundle: 'swish' },
  TemporalWeighting: { why: "the seed document's custom layer: its bundle is the seed fixture, not a zoo model", bundle: 'temporal' },
  CustomRiskLayer: { why: "the seed document's custom layer: its bundle is the seed fixture, not a zoo model", bundle: 'risk' },
  KerasLSTMCell: { why: 'the cell KerasLSTM builds from its own config: a cell, never a top-level layer', bundle: 'zoo/recurrent/lstm_dropout_inference' },
  KerasGRUCell: { why: 'the cell KerasGRU builds from its own config: a cell, never a top-level layer', bundle: 'zoo/recurrent/gru_last' },
  KerasSimpleRNNCell: { why: 'the cell KerasSimpleRNN builds from its own config: a cell, never a top-level layer', bundle: 'zoo/recurrent/simple_rnn_both_dropouts' },
  KerasBridgeCallArguments: {
    why: 'wraps a layer called with tensor keyword arguments (mask=, initial_state=); no zoo model calls a layer so',
    export: { modelsFile: path.join(REPO_ROOT, 'fixtures', 'models', 'call_argument_models.py'), factory: 'recurrent_mask_input', cache: 'call-argument-models', options: { batchSize: 3 } },
  },
  KerasBridgeGraphLayer: {
    why: "route 3: runs a custom layer's traced TensorFlow graph; the zoo holds Keras's own layers, no custom ones",
    export: { modelsFile: path.join(REPO_ROOT, 'fixtures', 'models', 'graph_fallback_layers.py'), factory: 'graph_fallback_model', cache: 'graph-fallback', options: { seed: 0, batchSize: 2 } },
    routes: ['retrace', 'graph'],
  },
  KerasLayerWeights: {
    why: "route 2: holds a re-traced custom layer's own weights inside its nested model; the zoo holds no custom layers",
    export: { modelsFile: path.join(REPO_ROOT, 'fixtures', 'models', 'retrace_layers.py'), factory: 'retraced_model', cache: 'retrace', options: { seed: 0, batchSize: 2 } },
    routes: ['retrace', 'graph'],
  },
};

/**
 * Every tfjs Layer class with a className that a module under src/layers exports (abstract bases
 * have none), by className, with its module; all modules are imported before any is looked up,
 * so that a class registered by another module (an index) counts.
 */
async function exportedLayerClasses(): Promise<Map<string, { cls: unknown; module: string }>> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith('.js')) files.push(file);
    }
  };
  walk(LAYERS);
  const classes = new Map<string, { cls: unknown; module: string }>();
  for (const file of files.sort()) {
    for (const value of Object.values(await import(pathToFileURL(file).href) as Record<string, unknown>)) {
      if (typeof value !== 'function' || !(value.prototype instanceof tf.layers.Layer)) continue;
      const className = Object.hasOwn(value, 'className') ? (value as unknown as { className: string }).className : undefined;
      if (className && !classes.has(className)) classes.set(className, { cls: value, module: path.relative(LAYERS, file) });
    }
  }
  return classes;
}

/** The smallest zoo bundle with a top-level layer of each class. */
async function zooBundleOfEachClass(): Promise<Map<string, string>> {
  const smallest = new Map<string, { dir: string; bytes: number }>();
  for (const family of readdirSync(ZOO).sort()) {
    for (const model of readdirSync(path.join(ZOO, family)).sort()) {
      const dir = path.join(ZOO, family, model);
      const bytes = bundleBytes(dir);
      for (const className of (await layerClassesOfBundle(dir)).keys()) {
        const best = smallest.get(className);
        if (!best || bytes < best.bytes) smallest.set(className, { dir, bytes });
      }
    }
  }
  return new Map([...smallest].map(([className, { dir }]) => [className, dir]));
}

/**
 * Classes whose layers have no Keras layer of their own (no Keras weights, shapes or goldens under
 * their name): runLayerTest checks them through the bundle's outputs. Any other class must have one.
 */
const NO_KERAS_COUNTERPART: Record<string, string> = {
  KerasOperation: 'a keras.ops call on symbolic tensors (x + y, ops.matmul): an operation node, which Keras records no golden for',
  KerasBridgeInputCopy: "keras-bridge's copy of an input a layer takes twice (MultiHeadAttention(x, x)), which tfjs-layers cannot wire; not a Keras layer",
};

describe('layer harness: every layer class of src/layers', function () {
  let classes: Map<string, { cls: unknown; module: string }>;
  let zoo: Map<string, string>;
  before(async () => {
    classes = await exportedLayerClasses();
    zoo = await zooBundleOfEachClass();
  });

  it('finds the layer classes (the walk sees every module)', () => {
    assert.ok(classes.size >= 40, `only ${classes.size} classes found`);
    for (const known of ['KerasGroupNormalization', 'KerasLSTM', 'KerasOperation', 'SwishActivation', 'KerasBridgeGraphLayer']) assert.ok(classes.has(known), known);
  });

  it('registers every one of them with tfjs serialization under its className', () => {
    const registry = tf.serialization.SerializationMap.getMap().classNameMap;
    const unregistered = [...classes].filter(([className, { cls }]) => registry[className]?.[0] !== cls).map(([className, { module }]) => `${className} (${module})`);
    assert.deepEqual(unregistered, []);
  });

  it('covers each class by a zoo bundle, or lists it in NOT_IN_ZOO with why (and only then)', () => {
    const neither = [...classes.keys()].filter((c) => !zoo.has(c) && !(c in NOT_IN_ZOO));
    assert.deepEqual(neither, [], 'layer classes with no zoo bundle: add a zoo model (fixtures/zoo/*.py) or list them in NOT_IN_ZOO with why');
    const stale = Object.keys(NOT_IN_ZOO).filter((c) => zoo.has(c) || !classes.has(c));
    assert.deepEqual(stale, [], 'NOT_IN_ZOO lists classes that a zoo bundle covers, or that src/layers no longer registers');
  });

  it('runs every class through runLayerTest', async function () {
    // The NOT_IN_ZOO exports are cached: exporting them on a fresh clone takes a minute or two.
    this.timeout(600_000);
    const failures: string[] = [];
    let ran = 0;
    const started = performance.now();
    for (const className of [...classes.keys()].sort()) {
      const listed = NOT_IN_ZOO[className];
      const bundleDir = zoo.get(className) ?? (listed?.bundle ? fixtureBundle(listed.bundle) : listed?.export ? await cachedExport(listed.export) : undefined);
      try {
        assert.ok(bundleDir, `${className}: no bundle to run it on`);
        ran++;
        const result = await runLayerTest({ className, bundleDir, ...(listed?.routes ? { routes: listed.routes } : {}) });
        assert.equal(result.checks.length, 5, `${className}: only ${result.checks.join(', ')} ran`);
        const counterpart = result.place === 'top-level' && !(className in NO_KERAS_COUNTERPART);
        assert.equal(result.kerasCounterpart, counterpart, `${className}: ${result.kerasCounterpart ? 'has a Keras layer: remove it from NO_KERAS_COUNTERPART' : 'has no Keras layer of its own: list it in NO_KERAS_COUNTERPART with why'}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    if (process.env['KERAS_BRIDGE_TIMINGS']) console.log(`    runLayerTest on ${ran} of ${classes.size} classes: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.deepEqual(failures, []);
  });
});
