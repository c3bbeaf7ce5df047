"""scripts/bench_keras.py warms up by the rule of src/bench/timing.ts: seconds of runs, at most 50, at least one."""
import importlib.util
import json
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_keras.py"
RUN_COUNT_CASES = Path(__file__).resolve().parents[2] / "test" / "bench" / "run-count-cases.json"


def load_bench_keras():
    spec = importlib.util.spec_from_file_location("bench_keras_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_warm_up_runs_once_without_seconds_and_stops_at_fifty():
    bench = load_bench_keras()
    calls = []
    assert bench.warm_up(lambda: calls.append(1), 0) == 1
    calls.clear()
    assert bench.warm_up(lambda: calls.append(1), 60) == bench.MAX_WARMUP_RUNS == 50
    assert len(calls) == 50


def test_warm_up_stops_once_its_seconds_have_passed():
    bench = load_bench_keras()
    runs = bench.warm_up(lambda: time.sleep(0.02), 0.1)
    assert 2 <= runs <= 6


def test_timed_counts_the_first_timed_run_among_its_repeats():
    bench = load_bench_keras()
    calls = []
    figure = bench.timed(lambda: calls.append(1), 7, 60, warmup_s=0, min_time_s=0)
    assert figure["runs"] == 7
    assert len(calls) == 1 + 7
    assert figure["p10_ms"] <= figure["median_ms"] <= figure["p90_ms"]


def test_timed_adds_runs_of_short_passes_until_they_last_the_minimum_time():
    bench = load_bench_keras()
    calls = []
    figure = bench.timed(lambda: (calls.append(1), time.sleep(0.02)), 3, 60, warmup_s=0, min_time_s=0.2)
    assert 3 < figure["runs"] <= 10
    assert len(calls) == 1 + figure["runs"]


def test_run_count_agrees_with_the_typescript_side():
    """The cases test/bench/timing.test.ts checks timedRunCount against."""
    bench = load_bench_keras()
    for case in json.loads(RUN_COUNT_CASES.read_text())["cases"]:
        runs = bench.run_count(case["firstS"], case["repeats"], case["budgetS"], case["minTimeS"])
        assert runs == case["runs"], case
