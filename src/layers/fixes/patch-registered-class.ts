import tf from '#tfjs';

/**
 * Runs `patch` on the prototype of the tfjs class registered for serialization as `className`,
 * once per class and marker: a second import, or a second copy of keras-bridge in one app, finds
 * `marker` on the prototype and changes nothing. A tfjs without the class has nothing to patch.
 * The layer fixes (fused convolutions, relu6, LayerNormalization) install themselves through it.
 */
export function patchRegisteredClass<Prototype extends object>(className: string, marker: symbol, patch: (prototype: Prototype) => void): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className] as [{ prototype: Prototype }, unknown] | undefined;
  if (!entry || Object.hasOwn(entry[0].prototype, marker)) return;
  patch(entry[0].prototype);
  Object.defineProperty(entry[0].prototype, marker, { value: true });
}
