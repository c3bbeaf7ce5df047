import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: tests run compiled from dist/test/. */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const FIXTURE_BUNDLES = path.join(REPO_ROOT, 'fixtures', 'bundles');
export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
export const SEED_BUNDLES = ['swish', 'temporal', 'risk'] as const;

export function fixtureBundle(name: string): string {
  return path.join(FIXTURE_BUNDLES, name);
}
