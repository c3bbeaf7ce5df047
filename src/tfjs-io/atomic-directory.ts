import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Fills a fresh temporary sibling of `target` with `write`, then renames it onto `target`.
 * On failure nothing is left behind and an existing `target` is untouched.
 */
export async function writeDirectoryAtomically(
  target: string,
  write: (tmpDir: string) => Promise<void>,
): Promise<void> {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(path.join(parent, `.${path.basename(resolved)}.tmp-`));
  try {
    await write(tmp);
    const existing = await stat(resolved).catch(() => null);
    if (existing) {
      // rename() cannot replace a non-empty directory: move the old one aside first.
      const old = `${tmp}.old`;
      await rename(resolved, old);
      // Put the old directory back if the new one cannot take its place (as bundle_writer.py does).
      await rename(tmp, resolved).catch(async (e: unknown) => {
        await rename(old, resolved);
        throw e;
      });
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, resolved);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
