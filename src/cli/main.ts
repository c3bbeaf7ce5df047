#!/usr/bin/env node
import { statSync } from 'node:fs';
import { prewarmHdf5Reader } from '../keras/keras-file/hdf5-reader-pool.js';

// Loading tfjs and the commands takes a few hundred milliseconds of this thread. Meanwhile:
// - convert, inspect and parity, given a file, start the HDF5 reader's thread first, which
//   compiles h5wasm (hdf5-reader-pool.ts imports nothing else, so the thread starts before this
//   one loads its own modules);
// - convert and inspect start opening each .keras, .h5 or .hdf5 file they are given (its zip
//   records read, its weights checked and walked in that thread), unless a --max-* flag sets other
//   limits than those the early open would use (the command itself tells a model file by its
//   bytes; the extension only keeps the early open off other files it is given).
// A bundle is a directory: nothing starts for it.
const OPENS_MODEL_FILES = new Set(['convert', 'inspect']);
const READS_MODEL_FILES = new Set(['convert', 'inspect', 'parity']);
const MODEL_FILE_EXTENSION = /\.(keras|h5|hdf5)$/i;
const [command, ...rest] = process.argv.slice(2);
const files = command !== undefined && READS_MODEL_FILES.has(command) ? rest.filter(namesFile) : [];
if (files.length > 0) prewarmHdf5Reader();
const opensEarly = command !== undefined && OPENS_MODEL_FILES.has(command) && !rest.some((a) => a.startsWith('--max-'));
const earlyFiles = opensEarly ? files.filter((f) => MODEL_FILE_EXTENSION.test(f)) : [];
if (earlyFiles.length > 0) {
  const { openKerasModelFileEarly } = await import('../keras/keras-file/read-model-file.js');
  for (const file of earlyFiles) void openKerasModelFileEarly(file);
}

const { runCommand } = await import('./run-command.js');
await runCommand(process.argv.slice(2));

function namesFile(argument: string): boolean {
  if (argument.startsWith('-')) return false;
  try {
    return statSync(argument).isFile();
  } catch {
    return false;
  }
}
