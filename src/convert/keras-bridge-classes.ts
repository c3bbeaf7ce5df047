/**
 * keras-bridge names every tfjs class it registers for converted models `Keras…` (KerasReLU,
 * KerasOperation, KerasBridgeCallArguments), and tfjs-layers names none of its own so: that is how
 * `inspect` tells a layer converted to keras-bridge's class from one converted to tfjs-layers'.
 * test/e2e/inspect.test.ts checks both halves against tfjs's class registry before and after
 * keras-bridge/runtime is imported.
 */
export const KERAS_BRIDGE_CLASS_PREFIX = 'Keras';

export function isKerasBridgeClass(tfjsClass: string): boolean {
  return tfjsClass.startsWith(KERAS_BRIDGE_CLASS_PREFIX);
}
