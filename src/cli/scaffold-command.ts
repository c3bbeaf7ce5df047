import { EXIT } from '../exit-codes.js';
import path from 'node:path';
import { scaffoldBundle } from '../scaffold/scaffold-bundle.js';
import { EXIT_CODES_HELP, UsageError, stringFlag, type Command } from './command.js';
import { commandSummary } from './command-index.js';

export const scaffoldCommand: Command = {
  name: 'scaffold',
  summary: commandSummary('scaffold'),
  usage: 'scaffold BUNDLE --out DIR',
  flags: {
    out: { type: 'string', value: 'DIR', description: 'directory to create (never overwritten: scaffold refuses an existing one)' },
    help: { type: 'boolean', description: 'show this help' },
  },
  details: [
    "For each custom class the bundle records (keras-bridge export), writes DIR/custom-layers/<Class>.ts:",
    "route 1's translation of the class's Python source (docs/custom-layer-routes.md): a tfjs Layer with",
    'a zod schema of its get_config() fields, its weights made in build() with Keras\'s names, shapes and',
    'initializers, its call(). A class that did not fully translate is written as a draft, each untranslated',
    'statement marked with a TODO quoting the Python and a throw. The classes register as hand-written, so',
    'they win over what convert would generate. Also writes DIR/custom-layers/index.ts, which registers them',
    "all, and DIR/parity.test.ts (node:test), which checks parity against BUNDLE with keras-bridge/testing.",
    '',
    ...EXIT_CODES_HELP,
  ],
  async run(args) {
    const [bundle] = args.positionals;
    const out = stringFlag(args, 'out');
    if (!bundle || args.positionals.length > 1 || !out) {
      throw new UsageError("keras-bridge scaffold: expected one BUNDLE and --out DIR. See 'keras-bridge scaffold --help'.");
    }
    const classes = await scaffoldBundle(bundle, out);
    for (const c of classes) {
      process.stdout.write(`${path.join(out, c.file)}: ${c.complete ? 'complete' : `draft, ${c.todo.length} TODO${c.todo.length === 1 ? '' : 's'}`}\n`);
      for (const todo of c.todo) process.stdout.write(`  TODO ${todo}\n`);
    }
    process.stdout.write(`wrote ${out}: custom-layers/ (${classes.length} classes, index.ts), parity.test.ts\n`);
    return EXIT.ok;
  },
};
