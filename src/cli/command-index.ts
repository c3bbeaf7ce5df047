import type { Command } from './command.js';

/**
 * A command as `keras-bridge --help` lists it, and how to load it. A command's module brings what
 * it runs (tfjs, the converter, the parity engine, execa): loading all of them took 0.54 s of
 * every start, `convert`'s alone 0.40 s, and `--help` needs none.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'export',
    summary: 'run the Python exporter: Keras model → bundle (config, weights, seeded goldens)',
    load: async () => (await import('./export-command.js')).exportCommand,
  },
  {
    name: 'convert',
    summary: 'convert a Keras model (bundle, .keras or .h5 file) to a tfjs-layers model directory (model.json + weight shards)',
    load: async () => (await import('./convert-command.js')).convertCommand,
  },
  {
    name: 'scaffold',
    summary: "write the TypeScript of a bundle's custom layers (translated from their Python source) and a parity test, for you to own and edit",
    load: async () => (await import('./scaffold-command.js')).scaffoldCommand,
  },
  {
    name: 'inspect',
    summary: 'list every layer of a model (bundle, .keras or .h5 file) and how it would convert, what conversion drops, and Python-only code in custom layers',
    load: async () => (await import('./inspect-command.js')).inspectCommand,
  },
  {
    name: 'parity',
    summary: 'run converted models on tfjs backends and compare outputs, layer outputs and gradients with Keras goldens',
    load: async () => (await import('./parity-command.js')).parityCommand,
  },
  {
    name: 'report',
    summary: "render saved parity results ('parity --json') again: the table, HTML, JUnit and JSON; compare two runs",
    load: async () => (await import('./report-command.js')).reportCommand,
  },
  {
    name: 'demo',
    summary: "export the seed example's three models from Keras, convert them, and check parity on every backend",
    load: async () => (await import('./demo-command.js')).demoCommand,
  },
];

/** The summary of the command `name` (each command's module takes its own from here). */
export function commandSummary(name: string): string {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`no command '${name}' in the command index`);
  return entry.summary;
}
