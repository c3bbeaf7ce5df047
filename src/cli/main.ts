#!/usr/bin/env node
import { statSync } from 'node:fs';
import { prewarmHdf5Reader } from '../keras/keras-file/hdf5-worker.js';

// The HDF5 reader's thread compiles h5wasm (a few hundred milliseconds) while this one loads
// tfjs and the commands (another few hundred): started first, when a command that reads model
// files is given a file (a .keras or .h5 model; a bundle is a directory).
const READS_MODEL_FILES = new Set(['convert', 'inspect', 'parity']);
const [command, ...rest] = process.argv.slice(2);
if (command && READS_MODEL_FILES.has(command) && rest.some(namesFile)) prewarmHdf5Reader();

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
