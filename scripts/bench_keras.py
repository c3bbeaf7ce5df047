"""Keras side of `npm run bench`: times the models the TypeScript side times, in four ways.

Usage: bench_keras.py --path DIR ... --batch-sizes 1,32 --repeats R --budget S FACTORY ...
       bench_keras.py --path DIR ... --serve FACTORY   (runs on request: serve())

For each factory and batch size, on seeded random inputs:
  function_forward   model(x) inside one tf.function (Keras's compiled graph: what users deploy)
  function_backward  one tf.function computing sum(model(x)) and its gradients with respect to
                     every trainable weight
  eager_forward      model(x, training=False) op by op
  eager_backward     the same gradient with a GradientTape, op by op
Each is run to warm up (tracing, allocation, and the runtime's own warming: both sides speed up
over their first tens of runs) until W seconds have passed (--warmup, default 3) or 50 runs, at
least once, then R times, fewer when R runs would take more than S seconds as the first timed run
says (but at least 3, or 1 when one run alone is over S/3). Prints one JSON
object: {factory: {"parameters": n, "weight_bytes": n, "batches": {"1": {way: timing}}}}, where
timing is {"median_ms", "p10_ms", "p90_ms", "runs"} or {"skipped": why}.
"""
import argparse
import importlib
import json
import math
import os
import re
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


WARMUP_S = 3.0
"""Seconds of warm-up runs before each timing (--warmup); the same rule as src/bench/timing.ts."""
MAX_WARMUP_RUNS = 50


def warm_up(fn, warmup_s):
    """Runs fn until warmup_s seconds have passed or MAX_WARMUP_RUNS runs, at least once; returns the runs."""
    start = time.perf_counter()
    runs = 0
    while True:
        fn()
        runs += 1
        if runs >= MAX_WARMUP_RUNS or time.perf_counter() - start >= warmup_s:
            return runs


MIN_TIME_S = 1.0
"""Seconds a timing's runs last at least (--min-time); the same rule as src/bench/timing.ts."""
MAX_TIMED_RUNS = 500


def run_count(first_s, repeats, budget_s, min_time_s):
    """How many runs a timing makes, from its first: src/bench/timing.ts's timedRunCount."""
    one_s = max(first_s, 1e-6)
    within_budget = max(3 if first_s <= budget_s / 3 else 1, math.floor(budget_s / one_s))
    to_fill = min(MAX_TIMED_RUNS, math.ceil(min_time_s / one_s))
    return max(1, min(max(repeats, to_fill), within_budget))


def run_times(fn, runs):
    """`runs` runs of fn, one after another: each one's milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def timed(fn, repeats, budget_s, warmup_s=None, min_time_s=None):
    warm_up(fn, WARMUP_S if warmup_s is None else warmup_s)  # tracing, compilation, allocation, warming
    # The first timed run says how many fit the budget: the warm-up's time is mostly compilation
    # (seconds for jax.jit or tf.function on a large model) and would leave a single run.
    times = run_times(fn, 1)
    runs = run_count(times[0] / 1000, repeats, budget_s, MIN_TIME_S if min_time_s is None else min_time_s)
    times += run_times(fn, runs - 1)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * (len(times) - 1) + 0.5))]
    return {"median_ms": statistics.median(times), "p10_ms": pick(0.1), "p90_ms": pick(0.9), "runs": runs}


KERAS_WAYS = ("function_forward", "function_backward", "eager_forward", "eager_backward")


class KerasWays:
    """A factory's model and its four ways of running (the module docstring), on the seeded inputs of
    each batch size, made on first use: what bench() times, and what serve() runs on request."""

    def __init__(self, factory):
        import keras
        import numpy as np
        import tensorflow as tf

        self._np, self._tf = np, tf
        module_name, fn_name = factory.split(":")
        keras.utils.set_random_seed(0)
        model = getattr(importlib.import_module(module_name), fn_name)()
        self.model = model
        weights = model.trainable_weights
        self.parameters = int(sum(np.prod(w.shape) for w in model.weights))
        self.weight_bytes = int(sum(np.prod(w.shape) * np.dtype(w.dtype).itemsize for w in model.weights))

        def loss_of(args):
            return tf.add_n([tf.reduce_sum(o) for o in tf.nest.flatten(model(args, training=False))])

        function_forward = tf.function(lambda args: model(args, training=False))

        @tf.function
        def function_backward(args):
            with tf.GradientTape() as tape:
                loss = loss_of(args)
            return tape.gradient(loss, weights)

        def eager_backward(args):
            with tf.GradientTape() as tape:
                loss = loss_of(args)
            return tape.gradient(loss, weights)

        self._calls = {
            "function_forward": function_forward,
            "function_backward": function_backward,
            "eager_forward": lambda args: model(args, training=False),
            "eager_backward": eager_backward,
        }
        self._inputs = {}

    def _fetch(self, values):
        # Wait for the values: TF may run asynchronously.
        for v in self._tf.nest.flatten(values):
            if v is not None:
                v.numpy()

    def run(self, batch, way):
        """A function running `way` (one of KERAS_WAYS) once at `batch` and reading its results back."""
        if batch not in self._inputs:
            tf, rng = self._tf, self._np.random.default_rng(0)
            inputs = [tf.constant(rng.standard_normal((batch, *t.shape[1:])).astype(t.dtype if t.dtype != "int32" else "float32")) for t in self.model.inputs]
            self._inputs[batch] = inputs[0] if len(inputs) == 1 else inputs
        call, args = self._calls[way], self._inputs[batch]
        return lambda: self._fetch(call(args))


def cannot_run(error):
    """Why Keras could not run a way (e.g. tf.py_function over NumPy: no gradient, no graph)."""
    # A tf.function's error is a traceback ("in user code:", 'File "..."' lines) ending with what
    # failed, and Keras adds the call's arguments after it: show the last line before those, without
    # terminal escapes.
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split("Arguments received by")[0]
    lines = [l.strip() for l in text.splitlines()]
    telling = [l for l in lines if l and l != "in user code:" and not l.startswith("File ") and l.strip("* ")]
    return f"Keras cannot run this: {type(error).__name__}: {telling[-1][:200] if telling else ''}"


def bench(factory, batch_sizes, repeats, budget_s):
    ways = KerasWays(factory)
    result = {"parameters": ways.parameters, "weight_bytes": ways.weight_bytes, "batches": {}}
    for batch in batch_sizes:
        figures = {}
        for way in KERAS_WAYS:
            try:
                figures[way] = timed(ways.run(batch, way), repeats, budget_s)
            except Exception as error:
                figures[way] = {"skipped": cannot_run(error)}
        result["batches"][str(batch)] = figures
        print(f"keras {factory} batch {batch}: " + ", ".join(f"{w} {f.get('median_ms', float('nan')):.1f} ms" for w, f in figures.items()), file=sys.stderr, flush=True)
    return result


def serve(factory, requests=sys.stdin, replies=sys.stdout):
    """Runs one factory's model on request, for timings alternated with another runtime's
    (src/bench/keras-partner.ts). One JSON object a line each way:
      {"op": "warm", "batch": 1, "way": "function_forward", "warmup_s": 3} -> {"runs": n}
      {"op": "run", "batch": 1, "way": "function_forward", "runs": 5}     -> {"times_ms": [...]}
    or {"error": why} when Keras cannot run it. The first reply, before any request, is
    {"ready": true, "parameters": n, "weight_bytes": n}; the process ends when its input does."""
    ways = KerasWays(factory)
    reply = lambda obj: (replies.write(json.dumps(obj) + "\n"), replies.flush())
    reply({"ready": True, "parameters": ways.parameters, "weight_bytes": ways.weight_bytes})
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op, batch, way = request.get("op"), int(request.get("batch", 0)), request.get("way")
            if op not in ("warm", "run") or way not in KERAS_WAYS or batch < 1:
                reply({"error": f"bad request: {line.strip()[:200]}"})
                continue
        except (ValueError, TypeError, AttributeError):
            reply({"error": f"bad request: {line.strip()[:200]}"})
            continue
        try:
            fn = ways.run(batch, way)
            if op == "warm":
                reply({"runs": warm_up(fn, float(request["warmup_s"]))})
            else:
                reply({"times_ms": run_times(fn, int(request["runs"]))})
        except Exception as error:
            reply({"error": cannot_run(error)})


def main(bench_one=bench, budget=60.0, add_arguments=lambda parser: None):
    """The command line: --path, --batch-sizes, --repeats, --budget, --warmup, --min-time and the factories (and what
    add_arguments adds, passed to bench_one by name); prints one JSON object."""
    global WARMUP_S, MIN_TIME_S
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--budget", type=float, default=budget)
    parser.add_argument("--warmup", type=float, default=WARMUP_S, help="seconds of warm-up runs before each timing (at most 50, at least one)")
    parser.add_argument("--min-time", type=float, default=MIN_TIME_S, help="seconds a timing's runs last at least (more runs than --repeats, at most 500)")
    parser.add_argument("--serve", action="store_true", help="run the one factory's model on request, reading JSON lines from stdin (serve())")
    add_arguments(parser)
    parser.add_argument("factories", nargs="+")
    args = vars(parser.parse_args())
    sys.path[:0] = args.pop("path")
    batch_sizes = [int(b) for b in args.pop("batch_sizes").split(",")]
    factories, repeats, budget_s = args.pop("factories"), args.pop("repeats"), args.pop("budget")
    WARMUP_S = args.pop("warmup")
    MIN_TIME_S = args.pop("min_time")
    if args.pop("serve"):
        if len(factories) != 1:
            parser.error("--serve takes one factory")
        return serve(factories[0])
    print(json.dumps({f: bench_one(f, batch_sizes, repeats, budget_s, **args) for f in factories}))


if __name__ == "__main__":
    main()
