"""scripts/bench_keras.py --serve: Keras's passes run on request, for the bench's cells to alternate with
(src/bench/keras-partner.ts speaks this protocol)."""
import importlib.util
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_keras.py"


def load_bench_keras():
    spec = importlib.util.spec_from_file_location("bench_keras_serving", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(requests):
    bench = load_bench_keras()
    sys.path.insert(0, str(ROOT / "fixtures" / "seed"))
    try:
        replies = io.StringIO()
        bench.serve("seed_models:swish_model", io.StringIO("".join(json.dumps(r) + "\n" if isinstance(r, dict) else r for r in requests)), replies)
    finally:
        sys.path.remove(str(ROOT / "fixtures" / "seed"))
    return [json.loads(line) for line in replies.getvalue().splitlines()]


def test_says_ready_then_answers_each_request_in_order():
    replies = serve([
        {"op": "warm", "batch": 2, "way": "function_forward", "warmup_s": 0},
        {"op": "run", "batch": 2, "way": "function_backward", "runs": 3},
        {"op": "run", "batch": 1, "way": "eager_forward", "runs": 1},
    ])
    ready, warm, run, eager = replies
    assert ready["ready"] is True and ready["parameters"] > 0 and ready["weight_bytes"] == 4 * ready["parameters"]
    assert warm == {"runs": 1}
    assert len(run["times_ms"]) == 3 and all(t > 0 for t in run["times_ms"])
    assert len(eager["times_ms"]) == 1


def test_a_request_it_cannot_read_gets_an_error_and_the_next_is_answered():
    replies = serve([
        "not json\n",
        {"op": "jump", "batch": 1, "way": "function_forward"},
        {"op": "run", "batch": 1, "way": "no_such_way", "runs": 1},
        {"op": "run", "batch": 0, "way": "function_forward", "runs": 1},
        {"op": "run", "batch": 1, "way": "function_forward", "runs": 2},
    ])
    assert [r.get("error", "").split(":")[0] for r in replies[1:5]] == ["bad request"] * 4
    assert len(replies[5]["times_ms"]) == 2


def test_a_pass_keras_cannot_run_is_answered_with_why():
    bench = load_bench_keras()

    class Failing:
        def run(self, batch, way):
            def fail():
                raise LookupError("No gradient defined for operation 'EagerPyFunc'")
            return fail

    bench.KerasWays = lambda factory: type("W", (Failing,), {"parameters": 1, "weight_bytes": 4})()
    replies = io.StringIO()
    bench.serve("any:model", io.StringIO(json.dumps({"op": "run", "batch": 1, "way": "function_backward", "runs": 1}) + "\n"), replies)
    answer = json.loads(replies.getvalue().splitlines()[1])
    assert answer == {"error": "Keras cannot run this: LookupError: No gradient defined for operation 'EagerPyFunc'"}
