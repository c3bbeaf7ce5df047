import { existsSync, lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { isEmptyDirectory, outputError, refuseUnsafeOutput, type OutputPolicy } from './output-directory.js';
import { REMOVING_SUFFIX, registerTemporaryPath } from './temporary-paths.js';

export interface AtomicWriteOptions {
  /** Which existing directories may be replaced; without one, any existing directory is. */
  policy?: OutputPolicy;
  /** The inputs of the write: the target may be none of them, nor contain one. */
  inputs?: readonly string[];
}

/** Times a run retries moving a directory another run put in place meanwhile aside. */
const MAX_REPLACE_ATTEMPTS = 8;

/**
 * Fills a fresh temporary sibling of `target`, `.<name>.tmp-<pid>-XXXXXX`, with `write`, then
 * renames it onto `target`. On failure, or on SIGINT/SIGTERM (temporary-paths.ts), nothing is
 * left behind and an existing `target` is untouched; another run writing the same target at the
 * same time ends with one of the two complete directories in place. Temporaries left by a run
 * that was killed outright (its pid is no longer alive) are removed first, and a previous output
 * it had moved aside is put back. Errors of the location (permissions, full disk) are InputErrors.
 */
export async function writeDirectoryAtomically(
  target: string,
  write: (tmpDir: string) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  try {
    await writeAtomically(target, write, options);
  } catch (e) {
    throw outputError(target, e);
  }
}

async function writeAtomically(target: string, write: (tmpDir: string) => Promise<void>, options: AtomicWriteOptions): Promise<void> {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  if (options.policy) refuseUnsafeOutput(target, options.policy, options.inputs);
  await mkdir(parent, { recursive: true });
  sweepStaleTemporaries(resolved);
  const { tmp, unregister } = await makeTemporaryDirectory(resolved);
  let aside: string[];
  try {
    await write(tmp);
    aside = moveIntoPlace(tmp, resolved, target, options);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    unregister();
    throw e;
  }
  unregister(); // renamed into place: no longer temporary
  for (const old of aside) {
    const unregisterOld = registerTemporaryPath(old);
    await rm(old, { recursive: true, force: true });
    unregisterOld();
  }
}

/**
 * A new empty `.<name>.tmp-<pid>-XXXXXX` beside `resolved`: the pid tells a later run whether its
 * writer is still alive. Made with the umask's permissions, not mkdtemp's 0700, as it becomes the output.
 */
async function makeTemporaryDirectory(resolved: string): Promise<{ tmp: string; unregister: () => void }> {
  for (;;) {
    const suffix = randomBytes(6).toString('base64url').replace(/[-_]/g, '0').slice(0, 6);
    const tmp = path.join(path.dirname(resolved), `.${path.basename(resolved)}.tmp-${process.pid}-${suffix}`);
    // Registered before it exists: a signal arriving as mkdir completes must still remove it.
    const unregister = registerTemporaryPath(tmp);
    try {
      await mkdir(tmp);
      return { tmp, unregister };
    } catch (e) {
      unregister();
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Renames `tmp` onto `resolved`, synchronously so that no signal handler runs half-way. An
 * existing non-empty directory (a previous output, checked again here: it may have appeared
 * while we wrote) is moved aside first and returned for removal; if the new directory then
 * cannot take its place, the old one is put back.
 */
function moveIntoPlace(tmp: string, resolved: string, target: string, options: AtomicWriteOptions): string[] {
  const aside: string[] = [];
  for (let attempt = 0; ; attempt++) {
    if (options.policy) refuseUnsafeOutput(target, options.policy, options.inputs);
    try {
      renameSync(tmp, resolved); // also replaces an empty directory
      return aside;
    } catch (e) {
      if (!isNotEmpty(e) || attempt >= MAX_REPLACE_ATTEMPTS) throw e;
    }
    // rename() cannot replace a non-empty directory: move it aside, then try again.
    const old = `${tmp}.old${attempt || ''}`;
    try {
      renameSync(resolved, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // another run moved it meanwhile
      throw e;
    }
    if (options.policy && !isEmptyDirectory(old) && !options.policy.replaceable(old)) {
      // Something else was put there between the check and the rename: put it back, refuse.
      try {
        renameSync(old, resolved);
      } catch {
        throw new InputError(`${target}: changed by another process while being replaced; what was there is now ${old}.`);
      }
      refuseUnsafeOutput(target, options.policy, options.inputs);
      throw new InputError(`${target}: changed by another process while being replaced; left as it was.`);
    }
    aside.push(old);
    try {
      renameSync(tmp, resolved);
      return aside;
    } catch (e) {
      if (isNotEmpty(e)) continue; // another run put its output in place meanwhile: replace it too
      restore(old, resolved, aside);
      throw e;
    }
  }
}

/** Puts a moved-aside directory back, unless another complete output took its place meanwhile. */
function restore(old: string, resolved: string, aside: string[]): void {
  try {
    renameSync(old, resolved);
    aside.splice(aside.indexOf(old), 1);
  } catch (e) {
    if (!isNotEmpty(e)) throw e;
  }
}

function isNotEmpty(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST';
}

/**
 * Removes the temporaries of runs that were killed outright (SIGKILL, power loss) beside
 * `resolved`: `.<name>.tmp-<pid>-XXXXXX` and its `.old` directories, when no process <pid> is
 * alive. A previous output such a run had moved aside is put back if nothing took its place.
 */
export function sweepStaleTemporaries(resolved: string): void {
  const parent = path.dirname(resolved);
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(resolved))}\\.tmp-(\\d+)-[A-Za-z0-9]{6}(\\.old\\d*|\\${REMOVING_SUFFIX})?$`);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  // Moved-aside outputs first, so that one can be put back before its sibling temporaries go.
  const stale = names
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null && !isAlive(Number(e.match[1])))
    .sort((a, b) => Number(isMovedAside(b.match)) - Number(isMovedAside(a.match)));
  for (const { name, match } of stale) {
    const stalePath = path.join(parent, name);
    try {
      if (isMovedAside(match) && !existsSync(resolved) && lstatSync(stalePath).isDirectory()) {
        renameSync(stalePath, resolved);
        continue;
      }
      rmSync(stalePath, { recursive: true, force: true });
    } catch {
      // Another run swept it first, or we may not remove it: leave it.
    }
  }
}

/** A previous output moved aside (`.old`), as opposed to a temporary or one being removed (`.gone`). */
function isMovedAside(match: RegExpExecArray): boolean {
  return match[2]?.startsWith('.old') ?? false;
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true; // not a name we wrote: leave it
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
