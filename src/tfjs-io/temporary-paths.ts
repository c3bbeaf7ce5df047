import { renameSync, rmSync } from 'node:fs';
import os from 'node:os';

/**
 * Temporary files and directories of this process, removed if it is interrupted (SIGINT, SIGTERM,
 * SIGHUP) or exits before their owner removes or renames them. A path registers itself when it is
 * created and unregisters once it is gone or has become a real output; the signal handlers are
 * installed only while something is registered, so a library user's own handling is left alone
 * otherwise.
 */
const registered = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Registers `path` for removal on a signal or exit; the returned function unregisters it. */
export function registerTemporaryPath(path: string): () => void {
  registered.add(path);
  install();
  return () => {
    registered.delete(path);
    if (registered.size === 0) uninstall();
  };
}

/** The paths registered now (for tests). */
export function registeredTemporaryPaths(): string[] {
  return [...registered];
}

/** The suffix a temporary takes while it is removed; sweepStaleTemporaries removes one left over. */
export const REMOVING_SUFFIX = '.gone';

function removeAll(): void {
  for (const path of registered) {
    try {
      // Renamed first: writes still queued in libuv's thread pool open their files by path and now
      // fail, instead of recreating files in the directory while it is being removed.
      let target = path;
      try {
        renameSync(path, path + REMOVING_SUFFIX);
        target = path + REMOVING_SUFFIX;
      } catch {
        // Not there (yet, or any more): remove what is at the path.
      }
      rmSync(target, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 });
    } catch {
      // Best effort: the process is going away; a stale temporary is swept by the next write.
    }
  }
  registered.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  uninstall();
  // With no other listener, Node would have ended the process on this signal: do so, with the
  // shell's code for it (128 + signal number: 130 for SIGINT, 143 for SIGTERM).
  if (process.listenerCount(signal) === 0) process.exit(128 + os.constants.signals[signal]);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', removeAll);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
  process.off('exit', removeAll);
}
