import { accessSync, constants, lstatSync, readdirSync, realpathSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';

/** Which existing directories a command may replace with what it writes. */
export interface OutputPolicy {
  /** The flag or argument naming the output, for messages: 'OUT_DIR', '--out'. */
  name: string;
  /** Whether an existing, non-empty directory holds this command's own earlier output. */
  replaceable(dir: string): boolean;
  /** What an existing non-empty directory the policy refuses is not, e.g. 'a keras-bridge conversion (...)'. */
  ownOutput: string;
  /** What to do instead, ending the refusal. */
  advice: string;
}

/** Errors of the output location that are the user's to fix (permissions, read-only or full disk, a file in the path). */
const OUTPUT_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP', 'EMLINK', 'EXDEV']);

/** An operating-system error while writing `target`, as an InputError naming the path and the errno; anything else unchanged. */
export function outputError(target: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !OUTPUT_ERRNOS.has(code)) return error;
  const { path: failed, syscall } = error as NodeJS.ErrnoException;
  // mkdir -p reports a file where a directory of the path should be as EEXIST.
  const why = code === 'EEXIST' && syscall === 'mkdir' ? describeErrno('ENOTDIR') : describeErrno(code);
  return new InputError(
    `${target}: cannot write the output (${code}${failed ? ` on ${failed}` : ''}: ${why}); ` +
      'choose a location you can write to, on a disk with free space.',
  );
}

function describeErrno(code: string): string {
  return (
    {
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EROFS: 'read-only file system',
      ENOSPC: 'no space left on device',
      EDQUOT: 'disk quota exceeded',
      ENOTDIR: 'a file is in the way of a directory in the path',
      EISDIR: 'is a directory',
      EEXIST: 'already exists',
      ENAMETOOLONG: 'name too long',
      ELOOP: 'too many symbolic links',
      EMLINK: 'too many links',
      EXDEV: 'cannot rename across file systems',
    }[code] ?? code
  );
}

/**
 * Refuses an output path that writing there would destroy something it must not: the current,
 * home or root directory (or one containing the current directory), an input or a directory
 * containing one, anything that is not a directory, a symbolic link, or a non-empty directory the
 * policy does not recognise as its own output. Throws an InputError naming the path, why, and
 * what to do. Synchronous, so that it can run right before a rename with nothing in between.
 */
export function refuseUnsafeOutput(target: string, policy: OutputPolicy, inputs: readonly string[] = []): void {
  const refuse = (why: string): never => {
    throw new InputError(`${policy.name} ${target}: refusing to write there: ${why}. ${policy.advice}`);
  };
  const real = realish(path.resolve(target));
  if (real === path.parse(real).root) refuse('it is the root directory');
  if (real === realish(os.homedir())) refuse('it is your home directory');
  const cwd = realish(process.cwd());
  if (real === cwd) refuse('it is the current directory');
  if (isWithin(cwd, real)) refuse('it contains the current directory');
  for (const input of inputs) {
    const realInput = realish(path.resolve(input));
    if (realInput === real) refuse(`it is the input ${input}`);
    if (isWithin(realInput, real)) refuse(`it contains the input ${input}`);
  }
  let stats: Stats | undefined;
  try {
    stats = lstatSync(target, { throwIfNoEntry: false });
  } catch (e) {
    throw outputError(target, e);
  }
  if (!stats) return;
  if (stats.isSymbolicLink()) refuse('it is a symbolic link');
  if (!stats.isDirectory()) refuse('it exists and is not a directory');
  if (isEmptyDirectory(target)) return;
  if (!policy.replaceable(target)) refuse(`it is a non-empty directory that is not ${policy.ownOutput}`);
  const locked = unwritableDirectory(target);
  if (locked) refuse(`replacing it means removing ${locked}, which is not writable (EACCES)`);
}

export function isEmptyDirectory(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/** The first directory of the tree at `dir` whose entries this process cannot remove, if any. */
function unwritableDirectory(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return dir;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const found = unwritableDirectory(path.join(dir, entry.name));
    if (found) return found;
  }
  return undefined;
}

/** `p` with symbolic links resolved as far as it exists (the rest appended as given). */
function realish(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realish(parent), path.basename(p));
  }
}

/** Whether `inner` is strictly inside `outer`. */
function isWithin(inner: string, outer: string): boolean {
  const relative = path.relative(outer, inner);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
