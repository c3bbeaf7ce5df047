import { lstatSync, renameSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { outputError } from './output-directory.js';
import { registerTemporaryPath } from './temporary-paths.js';

/**
 * Writes a report file (`--json FILE` and the like) whole or not at all: into a temporary sibling
 * renamed onto `file`. Refuses a `file` that is a directory, a symbolic link or something else
 * than a regular file, or that is one of `inputs` or an existing file inside one; errors of the location
 * (permissions, full disk) are InputErrors naming `flag`, the path and the errno.
 */
export async function writeOutputFile(flag: string, file: string, data: string, inputs: readonly string[] = []): Promise<void> {
  const resolved = path.resolve(file);
  const refuse = (why: string): never => {
    throw new InputError(`${flag} ${file}: refusing to write there: ${why}. Choose a new file or an earlier report.`);
  };
  for (const input of inputs) {
    const relative = path.relative(path.resolve(input), resolved);
    if (relative === '') refuse(`it is the input ${input}`);
    // A new report beside a bundle's files is fine; replacing a file inside the input is not.
    const inside = relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
    if (inside && lstatSync(resolved, { throwIfNoEntry: false })) refuse(`it would replace a file inside the input ${input}`);
  }
  try {
    const stats = lstatSync(resolved, { throwIfNoEntry: false });
    if (stats && !stats.isFile()) refuse(stats.isDirectory() ? 'it is a directory' : 'it exists and is not a regular file');
    await mkdir(path.dirname(resolved), { recursive: true });
    const tmp = path.join(path.dirname(resolved), `.${path.basename(resolved)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    const unregister = registerTemporaryPath(tmp);
    try {
      await writeFile(tmp, data, { flag: 'wx' });
      renameSync(tmp, resolved);
    } finally {
      await rm(tmp, { force: true });
      unregister();
    }
  } catch (e) {
    throw outputError(`${flag} ${file}`, e);
  }
}
