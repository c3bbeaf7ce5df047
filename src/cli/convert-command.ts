import { loadTranslatedLayers } from '../convert/translated-layers.js';
import { graphsFromBundle } from '../convert/graph-fallback-translation.js';
import { retracesFromManifest } from '../convert/retrace-translation.js';
import { convertKerasModel } from '../convert/convert-model.js';
import { formatConversionReport } from '../report/conversion-table.js';
import { writeModelDirectory } from '../tfjs-io/model-directory.js';
import { EXIT_CODES_HELP, UsageError, listFlag, type Command } from './command.js';
import { customLayersFlag, loadCustomLayerModules } from './custom-layer-modules.js';
import { readModelInput } from './read-model-input.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a Keras model (bundle, .keras or .h5 file) to a tfjs-layers model directory (model.json + weight shards)',
  usage: 'convert MODEL OUT_DIR [--custom-layers MODULE ...]',
  flags: {
    'custom-layers': customLayersFlag,
    json: { type: 'boolean', description: 'print the conversion report as JSON instead of a table' },
    help: { type: 'boolean', description: 'show this help' },
  },
  details: [
    'MODEL is a bundle directory written by \'keras-bridge export\', a Keras 3 .keras file, or a',
    'full-model .h5 file (Keras 2, or Keras 3\'s legacy writer); files are told apart by content',
    '(zip or HDF5), not extension, and read without Python. Only a bundle has goldens for parity.',
    '',
    'Writes OUT_DIR/model.json, group1-shard*of*.bin (4 MB shards) and conversion-report.json,',
    'into a temporary directory renamed into place. Load it with tf.loadLayersModel once your',
    'custom layers are registered.',
    '',
    ...EXIT_CODES_HELP,
  ],
  async run(args) {
    const [modelPath, outDir] = args.positionals;
    if (!modelPath || !outDir || args.positionals.length > 2) {
      throw new UsageError("keras-bridge convert: expected MODEL and OUT_DIR. See 'keras-bridge convert --help'.");
    }
    await loadCustomLayerModules(listFlag(args, 'custom-layers'));
    const model = await readModelInput(modelPath);
    const translated = await loadTranslatedLayers(model.manifest);
    const converted = await convertKerasModel(model.modelConfig, model.weights, model.source, {
      retraces: retracesFromManifest(model.manifest),
      graphs: graphsFromBundle(model.manifest, model.graphBytes ?? new Uint8Array()),
      ...(translated ? { translated } : {}),
    });
    const files = await writeModelDirectory(outDir, converted);
    if (args.values['json']) process.stdout.write(JSON.stringify(converted.report, null, 2) + '\n');
    else process.stdout.write(`${formatConversionReport(converted.report)}\nwrote ${outDir}: ${files.join(', ')}\n`);
    return 0;
  },
};

