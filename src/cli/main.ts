#!/usr/bin/env node
import { statSync } from 'node:fs';
import { prewarmHdf5Reader } from '../keras/keras-file/hdf5-worker.js';
import { openKerasModelFileEarly } from '../keras/keras-file/read-model-file.js';

// Loading tfjs and the commands takes a few hundred milliseconds of this thread. Meanwhile:
// - convert and inspect start opening each file they are given (a .keras or .h5 model: its zip
//   records read, its weights checked and walked in the HDF5 reader's thread), unless a --max-*
//   flag sets other limits than those the early open would use;
// - parity, given a file, starts the HDF5 reader's thread, which compiles h5wasm.
// A bundle is a directory: nothing starts for it.
const OPENS_MODEL_FILES = new Set(['convert', 'inspect']);
const READS_MODEL_FILES = new Set(['convert', 'inspect', 'parity']);
const [command, ...rest] = process.argv.slice(2);
const files = rest.filter(namesFile);
if (command && OPENS_MODEL_FILES.has(command) && !rest.some((a) => a.startsWith('--max-'))) {
  for (const file of files) void openKerasModelFileEarly(file);
} else if (command && READS_MODEL_FILES.has(command) && files.length > 0) {
  prewarmHdf5Reader();
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
