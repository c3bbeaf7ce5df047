import type { BundleManifest, GoldenCaseRecord } from './bundle-manifest.js';

/**
 * Golden cases: a model with open input dimensions is exported at one or more sizes
 * (docs/bundle-format.md, "Golden cases"). The first size is the manifest's own goldens section
 * (with training mode, after training and the float64 reference); each other size is an entry of
 * `goldens.cases`, compared end to end and layer by layer but not in training mode. Each size is its
 * own parity case. Bundles without `cases` have one, their goldens. Browser-safe (no Node imports):
 * the parity page builds the same views.
 */

/** How many sizes the bundle's goldens were recorded at. */
export function goldenCaseCount(manifest: BundleManifest): number {
  return 1 + (manifest.goldens.cases?.length ?? 0);
}

/** The sizes of case `index`, or null for a bundle whose inputs have no open dimension. */
export function goldenCase(manifest: BundleManifest, index: number): GoldenCaseRecord | null {
  if (index === 0) return manifest.goldens.case ?? null;
  const other = manifest.goldens.cases?.[index - 1];
  if (!other) throw new RangeError(`golden case ${index} does not exist (the bundle has ${goldenCaseCount(manifest)})`);
  return { name: other.name, input_shapes: other.input_shapes, ...(other.origins ? { origins: other.origins } : {}) };
}

/**
 * The manifest as if case `index` were its only goldens: case 0 is the manifest itself; another
 * case's goldens replace the section, with no training, after-training or reference section (they
 * are recorded at the first size only). Everything that reads `manifest.goldens` then evaluates and
 * compares that size unchanged.
 */
export function manifestForCase(manifest: BundleManifest, index: number): BundleManifest {
  if (index === 0) return manifest;
  const other = manifest.goldens.cases?.[index - 1];
  if (!other) throw new RangeError(`golden case ${index} does not exist (the bundle has ${goldenCaseCount(manifest)})`);
  const { generator: _generator, tensors, loss, gradients, ...sizes } = other;
  return { ...manifest, goldens: { file: manifest.goldens.file, loss, gradients, tensors, case: sizes } };
}

/** The parity case's label: the bundle's name, and the sizes when it has open dimensions (`bert [token_ids=7 padding_mask=7]`). */
export function caseLabel(bundleName: string, sizes: GoldenCaseRecord | null): string {
  return sizes ? `${bundleName} [${sizes.name}]` : bundleName;
}
