import { EXIT } from '../exit-codes.js';
import { parseRoutesFlag } from './routes-flag.js';
import { planSource } from '../convert/convert-bundle.js';
import { materializeConversion } from '../convert/convert-model.js';
import { withInferenceRewrites } from '../convert/inference-rewrites/apply-rewrites.js';
import { formatConversionReport } from '../report/conversion-table.js';
import { CONVERSION_OUTPUT, writeModelDirectory } from '../tfjs-io/model-directory.js';
import { refuseUnsafeOutput } from '../tfjs-io/output-directory.js';
import { EXIT_CODES_HELP, UsageError, listFlag, stringFlag, type Command } from './command.js';
import { customLayersFlag, loadCustomLayerModules } from './custom-layer-modules.js';
import { archiveLimitFlags, parseArchiveLimitFlags } from './archive-limit-flags.js';
import { readModelInput } from './read-model-input.js';
import { commandSummary } from './command-index.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: commandSummary('convert'),
  usage: 'convert MODEL OUT_DIR [--custom-layers MODULE ...] [--routes LIST] [--fold-batch-norm]',
  flags: {
    'custom-layers': customLayersFlag,
    routes: {
      type: 'string',
      value: 'LIST',
      description: "custom-layer routes to use for layers with no registered TypeScript class, in this order: translate (route 1, TypeScript generated from the layer's Python source), retrace (route 2, symbolic re-trace), graph (route 3, TensorFlow graph fallback); default translate,retrace,graph (docs/custom-layer-routes.md)",
    },
    'refuse-non-finite-weights': { type: 'boolean', description: 'exit 2 when a float weight holds NaN or infinities (by default: a warning naming the layer and weight)' },
    'fold-batch-norm': {
      type: 'boolean',
      description:
        'for inference only: fold each BatchNormalization that alone reads a Dense or convolution into its kernel and bias, and make a ReLU or ELU that alone reads one its activation (fused with the convolution); the report lists each change; check it with parity --fold-batch-norm (docs/inference-rewrites.md)',
    },
    json: { type: 'boolean', description: 'print the conversion report as JSON instead of a table' },
    ...archiveLimitFlags,
    help: { type: 'boolean', description: 'show this help' },
  },
  details: [
    'MODEL is a bundle directory written by \'keras-bridge export\', a Keras 3 .keras file, or a',
    'full-model .h5 file (Keras 2, or Keras 3\'s legacy writer); files are told apart by content',
    '(zip or HDF5), not extension, and read without Python. Only a bundle has goldens for parity.',
    '',
    'Writes OUT_DIR/model.json, group1-shard*of*.bin (4 MB shards) and conversion-report.json,',
    'into a temporary directory renamed into place. Load it with tf.loadLayersModel once your',
    'custom layers are registered. Custom layers keras-bridge translated from their Python source',
    '(a bundle\'s route 1) are written as OUT_DIR/custom-layers/<Class>.ts and compiled into',
    'OUT_DIR/custom-layers.js, which registers them: import it and keras-bridge/runtime first.',
    '',
    'OUT_DIR must be new, an empty directory, or an earlier keras-bridge conversion (it has',
    'conversion-report.json, or a model.json with "generatedBy": "keras-bridge"), which is replaced',
    'only once the new one is complete. Anything else is refused with exit 2: a file, a symbolic',
    'link, another non-empty directory, the current, home or root directory, MODEL itself or a',
    'directory containing it. A failed, interrupted (Ctrl-C, SIGTERM: exit 130, 143) or concurrent',
    'run leaves the previous OUT_DIR intact and no temporary .OUT_DIR.tmp-* beside it; those of a',
    'run killed outright are removed by the next run (docs/hostile-input.md, "Output directories").',
    '',
    ...EXIT_CODES_HELP,
  ],
  async run(args) {
    const [modelPath, outDir] = args.positionals;
    if (!modelPath || !outDir || args.positionals.length > 2) {
      throw new UsageError("keras-bridge convert: expected MODEL and OUT_DIR. See 'keras-bridge convert --help'.");
    }
    // Refused before the (long) conversion; checked again right before the rename.
    refuseUnsafeOutput(outDir, CONVERSION_OUTPUT, [modelPath]);
    const limits = parseArchiveLimitFlags(args, 'convert');
    await loadCustomLayerModules(listFlag(args, 'custom-layers'));
    const model = await readModelInput(modelPath, { limits, lazyWeights: true });
    try {
      const routes = parseRoutesFlag(stringFlag(args, 'routes'));
      const planned = await planSource(model, { routes, refuseNonFiniteWeights: args.values['refuse-non-finite-weights'] === true });
      // The weights go from the model file to the shards one at a time; folding needs them all in memory.
      const conversion = args.values['fold-batch-norm'] ? withInferenceRewrites(await materializeConversion(planned)) : planned;
      const { files, report } = await writeModelDirectory(outDir, conversion, { inputs: [modelPath] });
      if (args.values['json']) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(`${formatConversionReport(report)}\nwrote ${outDir}: ${files.join(', ')}\n`);
    } finally {
      await model.close?.();
    }
    return EXIT.ok;
  },
};

