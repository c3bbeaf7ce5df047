/**
 * How a Keras operation node's positional arguments are stored in our layer's config, in a form
 * that survives tfjs's snake_case → camelCase config conversion: tensors become
 * `{tensor: i}` (the i-th input of the layer), slices `{slice: [start, stop, step]}`, and plain
 * numbers, booleans and nulls stay as they are.
 */
export type ArgumentTemplate =
  | number
  | boolean
  | null
  | { tensor: number }
  | { slice: [number | null, number | null, number | null] }
  | ArgumentTemplate[];

export function isTensorSlot(value: unknown): value is { tensor: number } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { tensor?: unknown }).tensor === 'number';
}

export function isSliceSlot(value: unknown): value is { slice: [number | null, number | null, number | null] } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Array.isArray((value as { slice?: unknown }).slice);
}

/** Replaces tensor slots with the layer's actual inputs. */
export function fillArguments<T>(template: unknown, inputs: readonly T[]): unknown {
  if (isTensorSlot(template)) return inputs[template.tensor];
  if (Array.isArray(template)) return template.map((item) => fillArguments(item, inputs));
  return template;
}
