import type { ExitCodeName } from './exit-codes.js';
import { isPythonStdlibModule } from './keras/python-stdlib-modules.js';
/**
 * Typed errors. The CLI maps them to exit codes (python/keras_bridge/schemas/exit-codes.json): a user
 * or input error is input_error (2), unless the error says otherwise.
 * Every message names what is at fault (file, model, layer, field) and what to do next.
 */
/** An error's message, or the thrown value as text when it is not an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class KerasBridgeError extends Error {
  /**
   * The exit code the CLI uses when this error reaches it, by its name in the table (the CLI looks
   * the number up: errors are also thrown in browser pages, which cannot read the table's file).
   */
  readonly exitName: ExitCodeName = 'input_error';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bundle, model file or config that is missing, corrupt or not what Keras writes. */
export class InputError extends KerasBridgeError {}

/** A custom layer class of a model, with no TypeScript implementation registered. */
export interface MissingCustomLayer {
  className: string;
  registeredName: string | null;
  module: string | null;
  /** The model's layers of this class. */
  layers: string[];
  /** The fields its get_config() adds to Keras's base fields, with the first layer's values. */
  fields: Record<string, unknown>;
  /** Why the bundle's symbolic re-trace of each layer was refused (absent when none was recorded). */
  retraceRefusals?: Record<string, string>;
  /** Why the bundle's traced graph of each layer cannot run in tfjs (route 3). */
  graphRefusals?: Record<string, string>;
  /** Where the translation of the class's Python source stopped (route 1): `file:line: why (code)`. */
  translationGaps?: string[];
  /** For a keras.Model subclass (its config is constructor arguments, not layers): what to do instead. */
  modelAdvice?: string;
}

/** Custom layer classes that no TypeScript implementation is registered for, all of them at once. */
export class UnregisteredLayerError extends KerasBridgeError {
  constructor(
    readonly missing: MissingCustomLayer[],
    readonly source: string,
    /** The model came from a file, not a bundle: no route recorded anything, and an export would. */
    readonly fromFile = false,
  ) {
    const classes = missing.length === 1 ? `custom layer class '${missing[0]!.className}' has` : `${missing.length} custom layer classes have`;
    super(
      `${source}: ${classes} no TypeScript implementation registered:\n` +
        missing.map(describeMissing).join('\n') +
        (fromFile ? exportAdvice(missing, source) : '') +
        `\nFor each, write a tfjs Layer subclass with static className equal to the class name, register it with ` +
        `registerLayer(className, YourLayer, zodSchemaOfItsGetConfig) in a module (suggested schemas above, from the ` +
        `values in this model), and pass that module: keras-bridge convert MODEL OUT_DIR --custom-layers ./my-layers.js ` +
        `(the same flag for parity; see README, "Your own model").`,
    );
  }
}

/** For a .keras/.h5 input: the commands that let keras-bridge write the classes from their Python source. */
function exportAdvice(missing: MissingCustomLayer[], source: string): string {
  const file = /\.(keras|h5)$/.test(source) ? source : 'MODEL.keras';
  // Never a standard-library module a file names (`--module os`): only what can be the user's own code.
  const modules = [...new Set(missing.map((m) => m.module).filter((m): m is string => Boolean(m) && m !== '__main__' && !isPythonStdlibModule(m!)))];
  const module = modules.length > 0 ? modules.join(' ') : 'YOUR_LAYERS_MODULE';
  return (
    `\nkeras-bridge can write them from their Python source (docs/custom-layer-routes.md): export a bundle, then convert it ` +
    `(the classes are generated) or scaffold them to own the TypeScript:\n` +
    `  keras-bridge export --model ${file} --module ${module} --out BUNDLE\n` +
    `  keras-bridge convert BUNDLE OUT_DIR      # or: keras-bridge scaffold BUNDLE --out src/my-layers`
  );
}

function describeMissing(layer: MissingCustomLayer): string {
  const origin = layer.module ? ` (Python module '${layer.module}')` : '';
  const layers = `${layer.layers.length === 1 ? 'layer' : 'layers'} ${layer.layers.map((n) => `'${n}'`).join(', ')}`;
  const fields = Object.keys(layer.fields);
  const fieldText = fields.length === 0 ? 'no config fields beyond the base ones' : `config fields ${fields.map((f) => `${f}=${JSON.stringify(layer.fields[f])}`).join(', ')}`;
  const schema = fields.map((f) => `${f}: ${zodSchemaFor(layer.fields[f])}`).join(', ');
  const refusals =
    (layer.translationGaps ?? []).map((gap) => `\n      not translated to TypeScript: ${gap}`).join('') +
    Object.entries(layer.retraceRefusals ?? {}).map(([name, reason]) => `\n      symbolic re-trace of '${name}' refused: ${reason}`).join('') +
    Object.entries(layer.graphRefusals ?? {}).map(([name, reason]) => `\n      graph fallback of '${name}' refused: ${reason}`).join('');
  const register = `registerLayer('${layer.className}', ${layer.className}, z.object({${schema ? ` ${schema} ` : ''}}));`;
  const model = layer.modelAdvice ? `\n      This is a keras.Model subclass: its config holds constructor arguments, not its layers. ${layer.modelAdvice}:` : '';
  return `  - ${layer.className}${origin}: ${layers}; ${fieldText}${refusals}${model}\n      ${register}`;
}

/** A zod schema matching a config value, as a suggestion to start from. */
function zodSchemaFor(value: unknown): string {
  if (value === null) return 'z.unknown().nullable()';
  if (typeof value === 'number') return Number.isInteger(value) ? 'z.number().int()' : 'z.number()';
  if (typeof value === 'string') return 'z.string()';
  if (typeof value === 'boolean') return 'z.boolean()';
  if (Array.isArray(value)) return 'z.array(z.unknown())';
  return 'z.record(z.unknown())';
}

/** A custom layer's Python get_config() that its registered zod schema rejects. */
export class LayerConfigError extends KerasBridgeError {
  constructor(
    readonly source: string,
    readonly layerName: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${source}: layer '${layerName}', config field '${field}': ${detail}`);
  }
}

/** A Keras layer class no translator knows. */
export class UnsupportedLayerError extends KerasBridgeError {}

/**
 * A config field (or the input) of a layer that a layer class of keras-bridge's (src/layers, or
 * generated from Python source) cannot run on: broken or inconsistent, as Keras itself would refuse
 * it. Names the layer class, the layer and the field (Keras's snake_case name); the converter adds
 * the model file (in()).
 */
export class LayerFieldError extends InputError {
  constructor(
    readonly layerClass: string,
    readonly layerName: string,
    readonly field: string,
    readonly detail: string,
    readonly source: string | null = null,
  ) {
    super(layerFieldMessage(layerClass, layerName, field, detail, source));
  }

  /** The same error, naming the model file it was found in. */
  in(source: string): LayerFieldError {
    return this.source ? this : new LayerFieldError(this.layerClass, this.layerName, this.field, this.detail, source);
  }
}

/** A valid Keras value of a layer's field that keras-bridge's layer does not support (yet); named as LayerFieldError names it. */
export class UnsupportedLayerFieldError extends UnsupportedLayerError {
  constructor(
    readonly layerClass: string,
    readonly layerName: string,
    readonly field: string,
    readonly detail: string,
    readonly source: string | null = null,
  ) {
    super(layerFieldMessage(layerClass, layerName, field, detail, source));
  }

  /** The same error, naming the model file it was found in. */
  in(source: string): UnsupportedLayerFieldError {
    return this.source ? this : new UnsupportedLayerFieldError(this.layerClass, this.layerName, this.field, this.detail, source);
  }
}

function layerFieldMessage(layerClass: string, layerName: string, field: string, detail: string, source: string | null): string {
  return `${source ? `${source}: ` : ''}layer '${layerName}' (${layerClass}), field '${field}': ${detail}`;
}

/** A weight whose shape or count does not match what the converted layer expects. */
export class WeightMismatchError extends KerasBridgeError {}

/**
 * Python is missing, fails, or times out while exporting: input_error; or the exporter reported an
 * internal error (a bug), which keeps its exit code internal_error (python-exporter.ts).
 */
export class PythonExportError extends KerasBridgeError {
  override readonly exitName: ExitCodeName;
  constructor(message: string, exitName: ExitCodeName = 'input_error') {
    super(message);
    this.exitName = exitName;
  }
}

/** A requested backend cannot run here. */
export class BackendError extends KerasBridgeError {}
