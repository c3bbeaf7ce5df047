import { convertKerasModel } from '../convert/convert-model.js';
import { weightsFromBundle } from '../convert/weight-source.js';
import { loadBundle } from '../keras/bundle.js';
import { formatConversionReport } from '../report/conversion-table.js';
import { writeModelDirectory } from '../tfjs-io/model-directory.js';
import { EXIT_CODES_HELP, UsageError, listFlag, type Command } from './command.js';
import { customLayersFlag, loadCustomLayerModules } from './custom-layer-modules.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a bundle\'s Keras 3 model to a tfjs-layers model directory (model.json + weight shards)',
  usage: 'convert BUNDLE OUT_DIR [--custom-layers MODULE ...]',
  flags: {
    'custom-layers': customLayersFlag,
    json: { type: 'boolean', description: 'print the conversion report as JSON instead of a table' },
    help: { type: 'boolean', description: 'show this help' },
  },
  details: [
    'Writes OUT_DIR/model.json, group1-shard*of*.bin (4 MB shards) and conversion-report.json,',
    'into a temporary directory renamed into place. Load it with tf.loadLayersModel once your',
    'custom layers are registered.',
    '',
    ...EXIT_CODES_HELP,
  ],
  async run(args) {
    const [bundleDir, outDir] = args.positionals;
    if (!bundleDir || !outDir || args.positionals.length > 2) {
      throw new UsageError("keras-bridge convert: expected BUNDLE and OUT_DIR. See 'keras-bridge convert --help'.");
    }
    await loadCustomLayerModules(listFlag(args, 'custom-layers'));
    const bundle = await loadBundle(bundleDir);
    const source = `${bundle.dir}/${bundle.manifest.model.config_file}`;
    const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), source);
    const files = await writeModelDirectory(outDir, converted);
    if (args.values['json']) process.stdout.write(JSON.stringify(converted.report, null, 2) + '\n');
    else process.stdout.write(`${formatConversionReport(converted.report)}\nwrote ${outDir}: ${files.join(', ')}\n`);
    return 0;
  },
};
