import { InputError, UnsupportedLayerError } from '../errors.js';
import { isPythonStdlibModule } from '../keras/python-stdlib-modules.js';

/**
 * Serialized objects that carry Python code: Lambda layers (marshalled bytecode), Keras 3's
 * `__lambda__` functions (an activation or any callable argument given as a lambda), Keras 2's
 * TFOpLambda/SlicingOpLambda. keras-bridge never executes them (CVE-2024-3660 is Keras running one),
 * and must not copy them into model.json either, wherever in the config they sit: inside a nested
 * model, a wrapper's `layer`, a custom layer's config dict.
 */
const CODE_CLASSES = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda', '__lambda__']);

/** Where a value sits in the config: its parent's place and its key there (the path is spelled only for a message). */
interface Place {
  parent: Place | undefined;
  key: string | number;
}

function pathOf(place: Place | undefined): string {
  const keys: Array<string | number> = [];
  for (let p = place; p; p = p.parent) keys.push(p.key);
  return keys.reverse().reduce<string>((path, key) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key), '');
}

/** Refuses a config that holds a code-carrying object anywhere, naming the innermost layer and the field. */
export function refuseCodeInConfig(config: unknown, source: string): void {
  // Objects and arrays only: the walk visits every value of a config of thousands of layers.
  const pending: Array<{ value: object; place: Place | undefined; layer: string | undefined }> = [];
  const visit = (value: unknown, place: Place | undefined, layer: string | undefined) => {
    if (typeof value === 'object' && value !== null) pending.push({ value, place, layer });
  };
  visit(config, undefined, undefined);
  while (pending.length > 0) {
    const { value, place, layer } = pending.pop()!;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], { parent: place, key: i }, layer);
      continue;
    }
    const record = value as Record<string, unknown>;
    const inner = record['config'];
    const name = typeof inner === 'object' && inner !== null && typeof (inner as Record<string, unknown>)['name'] === 'string' ? ((inner as Record<string, unknown>)['name'] as string) : undefined;
    const className = record['class_name'];
    const isCode = (typeof className === 'string' && CODE_CLASSES.has(className)) || record['function_type'] === 'lambda';
    if (isCode) {
      const path = pathOf(place);
      const what = typeof className === 'string' && className !== '__lambda__' ? `a ${className} layer` : 'a Python lambda';
      const owner = name ?? layer;
      const where = owner ? `layer '${owner}', field '${path || '(config)'}'` : `field '${path || '(config)'}'`;
      throw new UnsupportedLayerError(
        `${source}: ${where} is ${what}: it holds serialized Python code, which keras-bridge never executes or copies ` +
          `(as Keras 3's safe mode refuses it). Rewrite it as a custom Layer subclass with get_config(), then register a ` +
          `TypeScript implementation with registerLayer().`,
      );
    }
    refuseForeignReference(record, source, name ?? layer, place);
    for (const key in record) {
      if (Object.hasOwn(record, key)) visit(record[key], { parent: place, key }, name ?? layer);
    }
  }
}

/**
 * Objects Keras would import from somewhere no layer lives (CVE-2025-1550's shape): a `module` of
 * Python's standard library (`os`, `subprocess`, `builtins`...), or a Keras built-in class whose
 * `registered_name` points elsewhere (Keras looks registered names up first: 'os>system' on a
 * Dense). TypeScript would never import them, but the file is not a model; it is refused, and no
 * message ever suggests passing such a module to export.
 */
function refuseForeignReference(record: Record<string, unknown>, source: string, layer: string | undefined, place: Place | undefined): void {
  const { module, class_name: className, registered_name: registered, config } = record;
  const where = () => `${source}: ${layer ? `layer '${layer}', ` : ''}field '${pathOf(place) || '(config)'}'`;
  if (typeof module === 'string' && isPythonStdlibModule(module) && !isRegisteredFunction(record)) {
    throw new InputError(
      `${where()}: names class '${String(className)}' of Python's standard-library module '${module}', where no Keras ` +
        `layer or function lives: the file asks Keras to import it. Refused; this is not a model file keras-bridge converts.`,
    );
  }
  const builtin = typeof module === 'string' && (module === 'keras' || module.startsWith('keras.'));
  const expected = registered === null || registered === undefined || registered === className || (className === 'function' && registered === config);
  if (builtin && !expected) {
    throw new InputError(
      `${where()}: Keras built-in class '${String(className)}' (module '${module}') carries registered_name ` +
        `${JSON.stringify(registered).slice(0, 120)}, which Keras would look up instead of the class: the file asks Keras ` +
        `to load something else. Refused.`,
    );
  }
}

/**
 * Keras's own form for a function registered with register_keras_serializable(package=...):
 * module 'builtins', class 'function', config 'package>name'. Legitimate, unless the package is
 * itself a standard-library module ('os>system').
 */
function isRegisteredFunction(record: Record<string, unknown>): boolean {
  const { module, class_name: className, config } = record;
  if (module !== 'builtins' || className !== 'function' || typeof config !== 'string') return false;
  const separator = config.indexOf('>');
  return separator > 0 && !isPythonStdlibModule(config.slice(0, separator));
}
