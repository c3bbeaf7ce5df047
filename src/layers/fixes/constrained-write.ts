import tf from '#tfjs';

type Write = (this: tf.LayerVariable, newValue: tf.Tensor) => tf.LayerVariable;

const PATCHED = Symbol.for('keras-bridge.constrained-write');

/**
 * tfjs-layers' LayerVariable.write assigns its constraint's projection of the new value
 * (`constraint.apply(val)`) and never disposes that tensor: every constrained weight leaked one
 * tensor of its size each time it was written, tf.loadLayersModel included (measured by
 * test/parity/no-leaks.test.ts: 3 per load of a model with three constrained weights). The same
 * write, inside tidy: the variable keeps its own reference to the projection's data, and the
 * projection tensor is let go. Installed once, when keras-bridge's runtime is imported.
 */
function installConstrainedWriteFix(): void {
  const prototype = tf.LayerVariable.prototype as unknown as { write: Write; [PATCHED]?: true };
  if (prototype[PATCHED]) return;
  const original = prototype.write;
  prototype.write = function (this: tf.LayerVariable, newValue: tf.Tensor): tf.LayerVariable {
    if (!this.constraint) return original.call(this, newValue);
    tf.tidy(() => {
      original.call(this, newValue);
    });
    return this;
  };
  prototype[PATCHED] = true;
}

installConstrainedWriteFix();
