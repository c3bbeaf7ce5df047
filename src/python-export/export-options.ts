import { z } from 'zod';

/**
 * The export options: one document that `keras-bridge export` builds from its flags and hands to
 * `python -m keras_bridge export --options-json -` on stdin. Python validates it against the JSON
 * Schema generated from this (python/keras_bridge/schemas/export-options.schema.json) and its own
 * flags parse into the same document (python/keras_bridge/cli.py), so an export option is one field
 * here plus its use in Python. The names are those exportWithPython() has always taken (its public API).
 * NAME=... values stay text: the exporter's one parser reads them (cli.py).
 */
export const exportOptionsSchema = z
  .object({
    out: z.string().min(1).describe('bundle directory to write (replaced atomically)'),
    factory: z.string().min(1).optional().describe('MODULE:FN, a Python function that builds the model; exactly one of factory and model'),
    model: z.string().min(1).optional().describe('a .keras file saved by Keras 3, or a legacy .h5 model; exactly one of factory and model'),
    modules: z.array(z.string().min(1)).default([]).describe('Python modules defining the custom classes of model (imported before factory)'),
    paths: z.array(z.string().min(1)).default([]).describe("directories prepended to Python's sys.path"),
    seed: z.number().int().nonnegative().default(0).describe('seeds the golden inputs and cotangents, and the factory\'s weights'),
    batchSize: z.number().int().positive().default(2).describe('batch dimension of the golden inputs'),
    inputRanges: z.array(z.string()).default([]).describe('NAME=[LOW:]HIGH for an integer input, NAME=P for a bool input'),
    inputShapes: z.array(z.string()).default([]).describe('NAME=D1,D2,...: the sizes of an input after the batch; repeated for one input, several golden cases'),
    layerGradients: z.enum(['auto', 'always', 'never']).default('auto').describe('whether the goldens include dL/dy of every layer output'),
    trainingMode: z.boolean().default(true).describe('record a training=True pass with its random draws'),
    trainSteps: z.number().int().nonnegative().default(0).describe('also record the trainable weights after this many SGD and Adam steps'),
    float64Reference: z.boolean().default(false).describe("measure each golden's float32 error against a float64 copy of the model"),
    kernelVariants: z.boolean().default(true).describe("with float64Reference: also export under Keras's other float32 kernel variants"),
    savedModel: z.boolean().default(false).describe('also write the model as a TensorFlow SavedModel (saved_model/), for running it in Node as one native graph'),
  })
  .strict();

/** The document as written (defaults may be left out). */
export type ExportOptionsInput = z.input<typeof exportOptionsSchema>;
export type ExportOptions = z.output<typeof exportOptionsSchema>;
