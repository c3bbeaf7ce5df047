import assert from 'node:assert/strict';
import type { GoldenTensorRecord } from '../../src/keras/bundle-manifest.js';
import { bundleManifestSchema } from '../../src/keras/bundle-manifest.js';
import { compareGolden } from '../../src/parity/compare-golden.js';
import type { BackendParity, TensorParity } from '../../src/parity/parity-result.js';
import { TolerancePolicy } from '../../src/parity/tolerance-policy.js';
import { formatParityTable, referenceMark } from '../../src/report/parity-table.js';

const policy = new TolerancePolicy({}, { atol: 1e-5, rtol: 0 });
const where = { backend: 'cpu', policy, label: 'layer bn' };

function golden(
  fields: Partial<{ source: 'keras' | 'autodiff' | 'finite_difference'; reference_error: number | null; float64_error: number | null; kernel_variant_error: number | null }>,
): GoldenTensorRecord {
  return { kind: 'layer_output', layer: 'bn', node: 0, index: 0, shape: [2], dtype: 'float32', offset: 0, byte_length: 8, source: 'keras', reference_error: null, ...fields };
}

// Keras says [1, 2]; tfjs is 3e-4 off on one element.
const expected = [1, 2];
const actual = { shape: [2], values: [1, 2.0003] };

describe('compareGolden: reference errors', () => {
  it('fails a golden off by more than atol when it has no reference error', () => {
    const result = compareGolden(golden({}), actual, expected, where);
    assert.equal(result.comparison.passed, false);
    assert.equal(result.referenceError, null);
    assert.equal(result.float64Error, null);
  });

  it("adds Keras's float32 error measured against float64 to atol twice (Keras's error and tfjs's, no worse), and says so", () => {
    const passing = compareGolden(golden({ reference_error: 2e-4, float64_error: 2e-4 }), actual, expected, where);
    assert.equal(passing.comparison.passed, true);
    assert.equal(passing.comparison.tolerance.atol, 1e-5 + 2 * 2e-4);
    assert.equal(passing.float64Error, 2e-4);
    assert.equal(passing.referenceError, 2e-4);
    const failing = compareGolden(golden({ reference_error: 1e-4, float64_error: 1e-4 }), actual, expected, where);
    assert.equal(failing.comparison.passed, false);
    assert.equal(failing.comparison.tolerance.atol, 1e-5 + 2 * 1e-4);
  });

  it("with Keras's kernel variants measured, adds E + max(E, V): tfjs no less accurate than the least accurate variant", () => {
    // E = 1e-4 alone allows 2e-4 (fails the 3e-4 difference); a variant 2.5e-4 from float64 allows 3.5e-4.
    const passing = compareGolden(golden({ reference_error: 1e-4, float64_error: 1e-4, kernel_variant_error: 2.5e-4 }), actual, expected, where);
    assert.equal(passing.comparison.passed, true);
    assert.ok(Math.abs(passing.comparison.tolerance.atol - (1e-5 + 1e-4 + 2.5e-4)) < 1e-12);
    assert.equal(passing.kernelVariantError, 2.5e-4);
    // Variants more accurate than the golden do not shrink the allowance below 2E.
    const closer = compareGolden(golden({ reference_error: 1e-4, float64_error: 1e-4, kernel_variant_error: 1e-5 }), actual, expected, where);
    assert.ok(Math.abs(closer.comparison.tolerance.atol - (1e-5 + 2e-4)) < 1e-12);
    assert.equal(closer.comparison.passed, false);
    // A layer run alone adds neither.
    const alone = compareGolden(golden({ reference_error: 1e-4, float64_error: 1e-4, kernel_variant_error: 2.5e-4 }), actual, expected, { ...where, isolated: true });
    assert.equal(alone.comparison.tolerance.atol, 1e-5);
    assert.equal(alone.kernelVariantError, null);
  });

  it('adds a finite-difference estimate once and a float64-measured error twice when a golden has both', () => {
    const both = compareGolden(golden({ source: 'finite_difference', reference_error: 3e-4, float64_error: 1e-4 }), actual, expected, where);
    assert.ok(Math.abs(both.comparison.tolerance.atol - (1e-5 + 2e-4 + 2 * 1e-4)) < 1e-12);
    assert.ok(Math.abs(both.referenceError! - 3e-4) < 1e-12);
  });

  it('a layer run alone keeps only the finite-difference part: the error the layers before it built up is not its own', () => {
    const measuredOnly = compareGolden(golden({ reference_error: 4e-4, float64_error: 4e-4 }), actual, expected, { ...where, isolated: true });
    assert.equal(measuredOnly.comparison.passed, false);
    assert.equal(measuredOnly.referenceError, null);
    assert.equal(measuredOnly.float64Error, null);
    const both = compareGolden(golden({ source: 'finite_difference', reference_error: 5e-4, float64_error: 1e-4 }), actual, expected, { ...where, isolated: true });
    assert.ok(Math.abs(both.referenceError! - 4e-4) < 1e-12);
    assert.equal(both.comparison.passed, true);
  });

  it('marks the rows: * finite differences, † measured against float64, and a footnote for each', () => {
    const fd = compareGolden(golden({ source: 'finite_difference', reference_error: 4e-4 }), actual, expected, where);
    const float64 = compareGolden(golden({ reference_error: 4e-4, float64_error: 4e-4 }), actual, expected, where);
    const both = compareGolden(golden({ source: 'finite_difference', reference_error: 5e-4, float64_error: 1e-4 }), actual, expected, where);
    assert.deepEqual([fd, float64, both].map(referenceMark), [' *', ' †', ' *†']);
    const backend = (tensors: TensorParity[]): BackendParity => ({
      backend: 'cpu',
      outcome: 'pass',
      gradientsNotCompared: null,
      firstDivergingLayer: null,
      firstDivergingLayerBackward: null,
      seconds: 0,
      tensors,
      isolated: { tensors: [], failingLayers: [], skipped: [], gradients: { tensors: [], failingLayers: [], skipped: [], unavailable: null } },
    });
    const table = (tensors: TensorParity[]) =>
      formatParityTable({ schema: 'keras-bridge-parity', schemaVersion: 2, outcome: 'pass', models: [{ bundle: 'b', model: 'm', kerasModelName: 'm', layerOrder: ['bn'], outcome: 'pass', conversionWarnings: [], backends: [backend(tensors)] }], unavailableBackends: [] }, false);
    const measured = table([float64]);
    assert.match(measured, /layer bn †/);
    assert.match(measured, /^† atol includes twice Keras's own float32 error, measured against float64.*once for Keras, once for tfjs rounding no worse than Keras \(kernel variants not measured\)\./m);
    const withVariants = table([compareGolden(golden({ reference_error: 4e-4, float64_error: 4e-4, kernel_variant_error: 5e-4 }), actual, expected, where)]);
    assert.match(withVariants, /^† atol includes Keras's own float32 error, measured against float64.*least accurate of Keras's float32 kernel variants/m);
    assert.doesNotMatch(measured, /^\* expected value/m);
    assert.doesNotMatch(table([compareGolden(golden({}), actual, expected, where)]), /†/);
  });
});

describe('bundle manifest: goldens.reference', () => {
  it('reads float64_error and the reference section, and refuses an unknown field in a golden reference', () => {
    const reference = {
      float64: true,
      definition: 'float64_error = ...',
      measured: 3,
      not_measured_count: 1,
      not_measured: [{ reason: 'layer x computes below float64', goldens: [{ section: 'training', kind: 'layer_output', layer: 'x', node: 0, index: 0 }] }],
    };
    const section = bundleManifestSchema.shape.goldens.shape.reference;
    assert.equal(section.safeParse(reference).success, true);
    const bad = { ...reference, not_measured: [{ reason: 'r', goldens: [{ section: 'training', kind: 'output', colour: 'red' }] }] };
    assert.equal(section.safeParse(bad).success, false);
    const tensor = bundleManifestSchema.shape.goldens.shape.tensors.element;
    assert.equal(tensor.safeParse({ ...golden({ reference_error: 1e-6, float64_error: 1e-6 }) }).success, true);
    assert.equal(tensor.safeParse({ ...golden({ float64_error: -1 }) }).success, false);
    assert.equal(tensor.safeParse({ ...golden({ float64_error: 1e-6, kernel_variant_error: 2e-6 }) }).success, true);
    const withVariants = {
      ...reference,
      kernel_variants: { definition: 'kernel_variant_error = ...', export_variant: 'onednn', measured: 3, variants: [{ name: 'eigen', env: { TF_ENABLE_ONEDNN_OPTS: '0' }, measured: true }] },
    };
    assert.equal(section.safeParse(withVariants).success, true);
  });
});
