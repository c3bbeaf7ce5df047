import { EXIT } from '../exit-codes.js';
import { writeFile } from 'node:fs/promises';
import { inspectModel } from '../inspect/inspect-model.js';
import { formatInspectReport } from '../report/inspect-table.js';
import { UsageError, listFlag, stringFlag, type Command } from './command.js';
import { customLayersFlag, loadCustomLayerModules } from './custom-layer-modules.js';
import { archiveLimitFlags, parseArchiveLimitFlags } from './archive-limit-flags.js';
import { readModelInput } from './read-model-input.js';
import { commandSummary } from './command-index.js';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: commandSummary('inspect'),
  usage: 'inspect MODEL [--custom-layers MODULE ...] [--json FILE]',
  flags: {
    'custom-layers': customLayersFlag,
    json: { type: 'string', value: 'FILE', description: 'also write the report as JSON (schema keras-bridge-inspect v1, docs/inspect.md)' },
    ...archiveLimitFlags,
    help: { type: 'boolean', description: 'show this help' },
  },
  details: [
    'MODEL is what convert takes: a bundle directory, a Keras 3 .keras file or a full-model .h5 file.',
    "Each layer's verdict comes from convert's own translators (tfjs-layers class, keras-bridge class,",
    'registered custom layer, or missing: an unregistered custom class, or a Keras class the converter',
    'does not convert, with its reason); the model is then converted in memory, and its notes (what',
    'conversion drops or changes) or its error are shown. For bundles, each custom class\'s source file',
    'and line and the Python-only constructs the exporter found in its call() (tf.py_function,',
    'tf.numpy_function, NumPy on tensors, .numpy(), Python if/while/for on tensor values) are listed.',
    'Nothing is written except --json FILE.',
    '',
    'Exit codes:',
    '  0  inspected (also when layers are missing: inspect reports, convert refuses)',
    '  2  usage or input error: bad flags, unreadable or corrupt MODEL, a --custom-layers module that fails to import',
    ' 70  internal error (a bug in keras-bridge: please report it with the message)',
  ],
  async run(args) {
    const [modelPath] = args.positionals;
    if (!modelPath || args.positionals.length > 1) {
      throw new UsageError("keras-bridge inspect: expected one MODEL. See 'keras-bridge inspect --help'.");
    }
    const limits = parseArchiveLimitFlags(args, 'inspect');
    await loadCustomLayerModules(listFlag(args, 'custom-layers'));
    const model = await readModelInput(modelPath, { limits, lazyWeights: true });
    let report: Awaited<ReturnType<typeof inspectModel>>;
    try {
      report = await inspectModel(model.modelConfig, model.weights, model.source, model.manifest, model.graphBytes);
    } finally {
      await model.close?.();
    }
    const json = stringFlag(args, 'json');
    if (json) await writeFile(json, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(formatInspectReport(report) + '\n');
    return EXIT.ok;
  },
};
