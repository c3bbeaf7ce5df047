/**
 * Typed errors. The CLI maps them to exit codes: a user or input error is 2, a parity failure 1.
 * Every message names what is at fault (file, model, layer, field) and what to do next.
 */
export class KerasBridgeError extends Error {
  /** Exit code the CLI uses when this error reaches it. */
  readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bundle, model file or config that is missing, corrupt or not what Keras writes. */
export class InputError extends KerasBridgeError {}

/** A custom layer class that no TypeScript implementation is registered for. */
export class UnregisteredLayerError extends KerasBridgeError {
  constructor(
    readonly className: string,
    readonly layerName: string,
    readonly source: string,
  ) {
    super(
      `${source}: layer '${layerName}' uses custom class '${className}', which has no TypeScript ` +
        `implementation registered. Write a tfjs Layer subclass with static className = '${className}' ` +
        `and register it with registerLayer('${className}', YourLayer, zodSchemaOfItsGetConfig) ` +
        `in a module you pass with --custom-layers (see README, "Your own model").`,
    );
  }
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

/** A weight whose shape or count does not match what the converted layer expects. */
export class WeightMismatchError extends KerasBridgeError {}

/** Python is missing, fails, or times out while exporting. */
export class PythonExportError extends KerasBridgeError {}

/** A requested backend cannot run here. */
export class BackendError extends KerasBridgeError {}
