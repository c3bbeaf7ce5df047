import assert from 'node:assert/strict';
import path from 'node:path';
import { parseBenchOptions } from '../../src/bench/bench-options.js';

// `npm run bench`'s command line: hours of work start from it, so a flag it misreads costs hours.
describe('npm run bench flags', () => {
  const root = '/repo';

  it('defaults to every model, batch sizes 1 and 32, and the Node backends for parity', () => {
    const o = parseBenchOptions([], root);
    assert.equal(o.models, undefined);
    assert.equal(o.parityBackends, undefined);
    assert.deepEqual(o.batchSizes, [1, 32]);
    assert.equal(o.repeats, 10);
    assert.equal(o.out, path.join(root, 'bench-results', 'latest.json'));
    assert.deepEqual(o.conversionSizes, ['64mb', '256mb', '1gb']);
    assert.equal(o.conversionRuns, 5);
    assert.equal(parseBenchOptions(['--smoke'], root).conversionRuns, 1);
    assert.equal(o.alongside, true, "Node cells alternate with Keras's runs by default");
    assert.equal(parseBenchOptions(['--alone'], root).alongside, false);
  });

  it("reads 'none' as no models, no parity runs and no conversion scaling", () => {
    const o = parseBenchOptions(['--models', 'none', '--parity-backends', 'none', '--conversion-sizes', 'none'], root);
    assert.deepEqual(o.models, []);
    assert.deepEqual(o.parityBackends, []);
    assert.deepEqual(o.conversionSizes, []);
  });

  it('reads lists and numbers', () => {
    const o = parseBenchOptions(['--models', 'resnet50, mobilenet_v2', '--parity-backends', 'wasm', '--batch-sizes', '1', '--repeats', '5', '--warmup', '0', '--min-time', '2.5'], root);
    assert.deepEqual(o.models, ['resnet50', 'mobilenet_v2']);
    assert.deepEqual(o.parityBackends, ['wasm']);
    assert.deepEqual(o.batchSizes, [1]);
    assert.equal(o.repeats, 5);
    assert.equal(o.warmupS, 0);
    assert.equal(o.minTimeS, 2.5);
  });

  it('refuses an unknown flag, a flag without its value, a bad number and an unknown conversion size, with the usage', () => {
    assert.throws(() => parseBenchOptions(['--model', 'resnet50'], root), /unknown argument '--model'[\s\S]*Usage:/);
    assert.throws(() => parseBenchOptions(['--help-me'], root), /unknown argument/);
    assert.throws(() => parseBenchOptions(['--models', '--smoke'], root), /--models needs a value/);
    assert.throws(() => parseBenchOptions(['--repeats', '0'], root), /--repeats must be a positive number, got '0'/);
    assert.throws(() => parseBenchOptions(['--conversion-sizes', '2gb'], root), /unknown conversion size '2gb'/);
    assert.throws(() => parseBenchOptions(['--conversion-runs', '0'], root), /--conversion-runs must be a positive number, got '0'/);
    assert.throws(() => parseBenchOptions(['--conversion-runs', '2.5'], root), /--conversion-runs must be a whole number, got '2.5'/);
    assert.equal(parseBenchOptions(['--conversion-runs', '3'], root).conversionRuns, 3);
  });
});
