import { exportWithPython, DEFAULT_EXPORT_TIMEOUT_SECONDS } from '../python-export/python-exporter.js';
import { EXIT_CODES_HELP, UsageError, listFlag, numberFlag, stringFlag, type Command } from './command.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'run the Python exporter: Keras model → bundle (config, weights, seeded goldens)',
  usage: 'export --out DIR (--factory MODULE:FN | --model FILE.keras|FILE.h5 --module MODULE) [options]',
  flags: {
    out: { type: 'string', value: 'DIR', description: 'bundle directory to write (replaced atomically)' },
    factory: { type: 'string', value: 'MODULE:FN', description: 'Python function that builds the model, e.g. seed_models:risk_model' },
    model: { type: 'string', value: 'FILE', description: 'a .keras file saved by Keras 3 (or a legacy .h5 model); its config is checked before Keras loads it, and Lambda layers, bytecode and foreign modules are refused (docs/hostile-input.md)' },
    module: { type: 'string', multiple: true, value: 'MODULE', description: 'Python module defining the custom layers of --model' },
    path: { type: 'string', multiple: true, value: 'DIR', description: "directory prepended to Python's sys.path" },
    seed: { type: 'string', value: 'N', description: 'seed for inputs, cotangents and factory weights', default: '0' },
    'input-shape': {
      type: 'string',
      multiple: true,
      value: 'NAME=D1,D2,...',
      description:
        'record goldens with input NAME of shape (batch, D1, D2, ...): sizes its open (None) dimensions; repeat it to record several sizes, each its own parity case (default: the smallest size >= 8 the model accepts)',
    },
    'input-range': { type: 'string', multiple: true, value: 'NAME=[LOW:]HIGH|NAME=P', description: 'draw golden values of integer input NAME from [LOW, HIGH) (default: from the Embedding it feeds); for a bool input, True with probability P (default 0.75)' },
    'batch-size': { type: 'string', value: 'N', description: 'batch size of the golden inputs', default: '2' },
    'layer-gradients': { type: 'string', value: 'WHEN', description: "auto, always or never: record dL/dy of every layer output, to check each layer's backward pass alone (auto: when they are small)", default: 'auto' },
    'train-steps': { type: 'string', value: 'N', description: 'also record the trainable weights after N SGD and N Adam steps (parity after training)', default: '0' },
    'no-training-mode': { type: 'boolean', description: 'do not record training mode (training=True, random draws recorded for replay)' },
    'float64-reference': {
      type: 'boolean',
      description:
        "also run a float64 copy of the model and add each golden's measured float32 error to its atol (for ill-conditioned models, e.g. BatchNormalization in training mode on small batches); also exports the goldens again under Keras's other float32 kernel variants (oneDNN on, capped at AVX2, off) to bound tfjs's own error (docs/tolerances.md)",
    },
    'no-kernel-variants': { type: 'boolean', description: 'with --float64-reference: skip the kernel-variant runs (faster; tfjs is then allowed only twice the golden\'s own float64 error)' },
    python: { type: 'string', value: 'PATH', description: 'Python with keras_bridge installed (default: $KERAS_BRIDGE_PYTHON, then .venv/bin/python)' },
    timeout: { type: 'string', value: 'SECONDS', description: 'stop the exporter after this long (its last output is then quoted)', default: String(DEFAULT_EXPORT_TIMEOUT_SECONDS) },
    help: { type: 'boolean', description: 'show this help' },
  },
  details: EXIT_CODES_HELP,
  async run(args) {
    const out = stringFlag(args, 'out');
    if (!out) throw new UsageError("keras-bridge export: --out DIR is required. See 'keras-bridge export --help'.");
    const bundle = await exportWithPython({
      out,
      factory: stringFlag(args, 'factory'),
      model: stringFlag(args, 'model'),
      modules: listFlag(args, 'module'),
      paths: listFlag(args, 'path'),
      seed: numberFlag(args, 'export', 'seed'),
      batchSize: numberFlag(args, 'export', 'batch-size'),
      inputRanges: listFlag(args, 'input-range'),
      inputShapes: listFlag(args, 'input-shape'),
      layerGradients: stringFlag(args, 'layer-gradients'),
      trainSteps: numberFlag(args, 'export', 'train-steps'),
      trainingMode: args.values['no-training-mode'] !== true,
      float64Reference: args.values['float64-reference'] === true,
      kernelVariants: args.values['no-kernel-variants'] !== true,
      python: stringFlag(args, 'python'),
      timeoutSeconds: numberFlag(args, 'export', 'timeout'),
      onProgress: (line) => process.stderr.write(`  ${line}\n`),
    });
    process.stdout.write(`${bundle}\n`);
    return 0;
  },
};
