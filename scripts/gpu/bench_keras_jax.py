"""Keras on JAX, jit-compiled, on this machine's GPU: the compiled-graph comparator for a GPU run
of `keras-bridge`'s webgpu backend (scripts/gpu/run-gpu-check.sh), where TensorFlow is not installed.

Usage: bench_keras_jax.py --batch-sizes 1,32 --repeats R --budget S [--precision highest] FACTORY ...
--precision sets jax_default_matmul_precision: XLA's default on a GPU may compute float32 matrix
products and convolutions in TF32 (10-bit mantissa); `highest` keeps them float32, as tfjs computes.
Times what scripts/bench_keras.py's function_forward and function_backward time (model(x) and the
gradients of sum(model(x)) w.r.t. every trainable weight, each result copied to the host), as
jax.jit over Keras's stateless_call. Prints one JSON object like bench_keras.py's.
"""
import importlib
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from bench_keras import main, timed  # noqa: E402


def bench(factory, batch_sizes, repeats, budget_s, precision):
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    if precision:
        jax.config.update("jax_default_matmul_precision", precision)
    module_name, fn_name = factory.split(":")
    keras.utils.set_random_seed(0)
    model = getattr(importlib.import_module(module_name), fn_name)()
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]

    def outputs(trainable, x):
        y, _ = model.stateless_call(trainable, frozen, x, training=False)
        return jax.tree_util.tree_leaves(y)

    forward = jax.jit(outputs)
    backward = jax.jit(jax.grad(lambda t, x: sum(jnp.sum(o) for o in outputs(t, x))))

    def fetch(values):
        for v in jax.tree_util.tree_leaves(values):
            np.asarray(v)

    result = {"device": str(jax.devices()[0]), "matmul_precision": precision or "default", "parameters": int(sum(np.prod(w.shape) for w in model.weights)), "batches": {}}
    for batch in batch_sizes:
        rng = np.random.default_rng(0)
        inputs = [jnp.asarray(rng.standard_normal((batch, *t.shape[1:])).astype("float32")) for t in model.inputs]
        x = inputs[0] if len(inputs) == 1 else inputs
        figures = {}
        for way, fn in {"jit_forward": lambda: fetch(forward(trainable, x)), "jit_backward": lambda: fetch(backward(trainable, x))}.items():
            try:
                figures[way] = timed(fn, repeats, budget_s)
            except Exception as error:
                figures[way] = {"skipped": f"{type(error).__name__}: {str(error)[:300]}"}
        result["batches"][str(batch)] = figures
        print(f"keras-jax ({precision or 'default'} precision) {factory} batch {batch}: " + ", ".join(f"{w} {f.get('median_ms', float('nan')):.2f} ms" for w, f in figures.items()), file=sys.stderr, flush=True)
    return result


if __name__ == "__main__":
    main(bench, budget=30.0, add_arguments=lambda parser: parser.add_argument("--precision", default=None, choices=["default", "high", "highest"]))
