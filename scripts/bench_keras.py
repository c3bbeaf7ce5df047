"""Keras side of `npm run bench`: times the same models the TypeScript side times.

Usage: bench_keras.py --path DIR ... --batch-size N --repeats R FACTORY ...
Prints one JSON object: {factory: {forward_ms, gradient_ms | null, gradient_note, rss_growth_mb}}.
Forward is an eager call model(x, training=False), as tfjs's predict is eager; gradient is one
tf.GradientTape pass of sum(model(x)) with respect to the inputs and trainable weights.
"""
import argparse
import importlib
import json
import os
import resource
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def median_ms(fn, repeats):
    fn()  # warm-up: tracing, allocation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(factory, batch_size, repeats):
    import keras
    import numpy as np
    import tensorflow as tf

    module_name, fn_name = factory.split(":")
    keras.utils.set_random_seed(0)
    before = rss_mb()
    model = getattr(importlib.import_module(module_name), fn_name)()
    shapes = [(batch_size, *t.shape[1:]) for t in model.inputs]
    inputs = [tf.constant(np.random.default_rng(0).standard_normal(s).astype("float32")) for s in shapes]
    args = inputs[0] if len(inputs) == 1 else inputs
    result = {"forward_ms": median_ms(lambda: model(args, training=False), repeats)}

    def gradient():
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = tf.nest.flatten(model(args, training=False))
            loss = tf.add_n([tf.reduce_sum(o) for o in outputs])
        return tape.gradient(loss, inputs + model.trainable_weights)

    try:
        result["gradient_ms"] = median_ms(gradient, repeats)
        result["gradient_note"] = None
    except Exception as error:  # e.g. tf.py_function over NumPy: Keras cannot differentiate it
        result["gradient_ms"] = None
        result["gradient_note"] = f"Keras cannot differentiate this model ({type(error).__name__})"
    result["rss_growth_mb"] = rss_mb() - before
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("factories", nargs="+")
    args = parser.parse_args()
    sys.path[:0] = args.path
    print(json.dumps({f: bench(f, args.batch_size, args.repeats) for f in args.factories}))


if __name__ == "__main__":
    main()
