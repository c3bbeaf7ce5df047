import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KNOWN_BACKENDS, describeBackends } from '../backends/index.js';
import { convertBundle } from '../convert/convert-bundle.js';
import { loadBundle } from '../keras/bundle.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { runParity } from '../parity/run-parity.js';
import { exportWithPython } from '../python-export/python-exporter.js';
import { reportFormat } from '../report/formats/index.js';
import { formatParityTable } from '../report/parity-table.js';
import { writeModelDirectory } from '../tfjs-io/model-directory.js';
import { EXIT_CODES_HELP, stringFlag, type Command } from './command.js';
import { parityExitCode, parseBackends, useColor } from './parity-command.js';
import { commandSummary } from './command-index.js';


/** The seed document's models (fixtures/seed/seed_models.py), our permanent end-to-end example. */
const SEED_EXAMPLE = {
  pythonPath: path.join(PACKAGE_ROOT, 'fixtures', 'seed'),
  models: { swish: 'seed_models:swish_model', temporal: 'seed_models:temporal_model', risk: 'seed_models:risk_model' },
};

export const demoCommand: Command = {
  name: 'demo',
  summary: commandSummary('demo'),
  usage: 'demo [--out DIR] [--backend LIST]',
  flags: {
    out: { type: 'string', value: 'DIR', description: 'where bundles, converted models, parity.json and parity.html go', default: 'out/demo' },
    backend: { type: 'string', value: 'LIST', description: 'backends to try (listed below); those that cannot run here are reported and skipped', default: KNOWN_BACKENDS.join(',') },
    'no-color': { type: 'boolean', description: 'plain text output' },
    help: { type: 'boolean', description: 'show this help' },
  },
  details: ['Backends:', ...describeBackends(), '', ...EXIT_CODES_HELP],
  async run(args) {
    await import('../layers/seed/index.js');
    const out = path.resolve(stringFlag(args, 'out') ?? 'out/demo');
    const targets = [];
    for (const [name, factory] of Object.entries(SEED_EXAMPLE.models)) {
      const bundleDir = path.join(out, 'bundles', name);
      const modelDir = path.join(out, 'tfjs', name);
      process.stderr.write(`demo: exporting ${factory} from Keras ...\n`);
      await exportWithPython({ out: bundleDir, factory, paths: [SEED_EXAMPLE.pythonPath], onProgress: (l) => process.stderr.write(`  ${l}\n`) });
      const bundle = await loadBundle(bundleDir);
      const converted = await convertBundle(bundle);
      await writeModelDirectory(modelDir, converted);
      process.stderr.write(`demo: converted to ${path.relative(process.cwd(), modelDir)}\n`);
      targets.push({ bundleDir, modelDir });
    }
    const run = await runParity(targets, {
      backends: parseBackends(stringFlag(args, 'backend') ?? KNOWN_BACKENDS.join(',')),
      requireAllBackends: false,
      customLayerModules: ['keras-bridge/layers/seed'],
      onBackend: (model, backend) => process.stderr.write(`demo: parity of ${model} on ${backend} ...\n`),
    });
    await writeFile(path.join(out, 'parity.json'), reportFormat('json').render(run));
    await writeFile(path.join(out, 'parity.html'), reportFormat('html').render(run));
    process.stdout.write(formatParityTable(run, useColor(args)) + '\n');
    const shown = (file: string) => path.relative(process.cwd(), path.join(out, file));
    process.stdout.write(`results: ${shown('parity.json')}, report: ${shown('parity.html')}\n`);
    return parityExitCode(run);
  },
};
