import { z } from 'zod';
import { EXIT } from '../exit-codes.js';
import { describeZodIssue } from '../keras/zod-issues.js';
import { exportOptionsSchema, type ExportOptions } from '../python-export/export-options.js';
import { exportWithPython, DEFAULT_EXPORT_TIMEOUT_SECONDS } from '../python-export/python-exporter.js';
import { EXIT_CODES_HELP, UsageError, listFlag, numberFlag, stringFlag, type Command, type ParsedArgs } from './command.js';
import { commandSummary } from './command-index.js';

/**
 * The flag of each export option (export-options.ts): the flags below build the options document
 * Python reads. Typed over every field, so a new option without a flag does not compile; `negated`:
 * a boolean option that defaults to true, turned off by its flag.
 */
const OPTION_FLAGS: Record<keyof ExportOptions, { flag: string; negated?: true }> = {
  out: { flag: 'out' },
  factory: { flag: 'factory' },
  model: { flag: 'model' },
  modules: { flag: 'module' },
  paths: { flag: 'path' },
  seed: { flag: 'seed' },
  batchSize: { flag: 'batch-size' },
  inputRanges: { flag: 'input-range' },
  inputShapes: { flag: 'input-shape' },
  layerGradients: { flag: 'layer-gradients' },
  trainingMode: { flag: 'no-training-mode', negated: true },
  trainSteps: { flag: 'train-steps' },
  float64Reference: { flag: 'float64-reference' },
  kernelVariants: { flag: 'no-kernel-variants', negated: true },
  savedModel: { flag: 'saved-model' },
};

function innerType(schema: z.ZodTypeAny): z.ZodTypeAny {
  return schema instanceof z.ZodOptional || schema instanceof z.ZodDefault ? innerType(schema._def.innerType as z.ZodTypeAny) : schema;
}

/** The zod default of an option, as its flag's --help shows it. */
function defaultText(field: keyof ExportOptions): string | undefined {
  const schema = exportOptionsSchema.shape[field];
  return schema instanceof z.ZodDefault && !Array.isArray(schema._def.defaultValue()) ? String(schema._def.defaultValue()) : undefined;
}

/** The options document of the parsed flags, checked against exportOptionsSchema (UsageError naming the flag). */
export function exportOptionsFromFlags(args: ParsedArgs): ExportOptions {
  const document: Record<string, unknown> = {};
  for (const [field, { flag, negated }] of Object.entries(OPTION_FLAGS) as Array<[keyof ExportOptions, { flag: string; negated?: true }]>) {
    const inner = innerType(exportOptionsSchema.shape[field]);
    if (inner instanceof z.ZodBoolean) document[field] = negated ? args.values[flag] !== true : args.values[flag] === true;
    else if (inner instanceof z.ZodArray) document[field] = listFlag(args, flag);
    else if (inner instanceof z.ZodNumber) document[field] = numberFlag(args, 'export', flag);
    else document[field] = stringFlag(args, flag);
  }
  const parsed = exportOptionsSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = OPTION_FLAGS[issue.path[0] as keyof ExportOptions]?.flag;
    throw new UsageError(`keras-bridge export: --${flag ?? issue.path.join('.')}: ${issue.message}. See 'keras-bridge export --help'.`);
  }
  return parsed.data;
}

export const exportCommand: Command = {
  name: 'export',
  summary: commandSummary('export'),
  usage: 'export --out DIR (--factory MODULE:FN | --model FILE.keras|FILE.h5 --module MODULE) [options]',
  flags: {
    out: { type: 'string', value: 'DIR', description: 'bundle directory to write (replaced atomically)' },
    factory: { type: 'string', value: 'MODULE:FN', description: 'Python function that builds the model, e.g. seed_models:risk_model' },
    model: { type: 'string', value: 'FILE', description: 'a .keras file saved by Keras 3 (or a legacy .h5 model); its config is checked before Keras loads it, and Lambda layers, bytecode and foreign modules are refused (docs/hostile-input.md)' },
    module: { type: 'string', multiple: true, value: 'MODULE', description: 'Python module defining the custom layers of --model' },
    path: { type: 'string', multiple: true, value: 'DIR', description: "directory prepended to Python's sys.path" },
    seed: { type: 'string', value: 'N', description: 'seed for inputs, cotangents and factory weights', default: defaultText('seed') },
    'input-shape': {
      type: 'string',
      multiple: true,
      value: 'NAME=D1,D2,...',
      description:
        'record goldens with input NAME of shape (batch, D1, D2, ...): sizes its open (None) dimensions; repeat it to record several sizes, each its own parity case (default: the smallest size >= 8 the model accepts)',
    },
    'input-range': { type: 'string', multiple: true, value: 'NAME=[LOW:]HIGH|NAME=P', description: 'draw golden values of integer input NAME from [LOW, HIGH) (default: from the Embedding it feeds); for a bool input, True with probability P (default 0.75)' },
    'batch-size': { type: 'string', value: 'N', description: 'batch size of the golden inputs', default: defaultText('batchSize') },
    'layer-gradients': { type: 'string', value: 'WHEN', description: "auto, always or never: record dL/dy of every layer output, to check each layer's backward pass alone (auto: when they are small)", default: defaultText('layerGradients') },
    'train-steps': { type: 'string', value: 'N', description: 'also record the trainable weights after N SGD and N Adam steps (parity after training)', default: defaultText('trainSteps') },
    'no-training-mode': { type: 'boolean', description: 'do not record training mode (training=True, random draws recorded for replay)' },
    'float64-reference': {
      type: 'boolean',
      description:
        "also run a float64 copy of the model and add each golden's measured float32 error to its atol (for ill-conditioned models, e.g. BatchNormalization in training mode on small batches); also exports the goldens again under Keras's other float32 kernel variants (oneDNN on, capped at AVX2, off) to bound tfjs's own error (docs/tolerances.md)",
    },
    'no-kernel-variants': { type: 'boolean', description: 'with --float64-reference: skip the kernel-variant runs (faster; tfjs is then allowed only twice the golden\'s own float64 error)' },
    'saved-model': {
      type: 'boolean',
      description:
        "also write the model as a TensorFlow SavedModel (BUNDLE/saved_model, Keras's own export), to run it in Node as one native graph (loadNativeGraph, tfjs-node), with a second endpoint for the gradients of the inputs and of the weights fed to it; parity compares its outputs and gradients on the tensorflow backend (docs/native-graph.md). A model that calls back into Python is recorded as skipped, with why",
    },
    python: { type: 'string', value: 'PATH', description: 'Python with keras_bridge installed (default: $KERAS_BRIDGE_PYTHON, then .venv/bin/python)' },
    timeout: { type: 'string', value: 'SECONDS', description: 'stop the exporter after this long (its last output is then quoted)', default: String(DEFAULT_EXPORT_TIMEOUT_SECONDS) },
    help: { type: 'boolean', description: 'show this help' },
  },
  details: EXIT_CODES_HELP,
  async run(args) {
    if (!stringFlag(args, 'out')) throw new UsageError("keras-bridge export: --out DIR is required. See 'keras-bridge export --help'.");
    const bundle = await exportWithPython({
      ...exportOptionsFromFlags(args),
      python: stringFlag(args, 'python'),
      timeoutSeconds: numberFlag(args, 'export', 'timeout'),
      onProgress: (line) => process.stderr.write(`  ${line}\n`),
    });
    process.stdout.write(`${bundle}\n`);
    return EXIT.ok;
  },
};
