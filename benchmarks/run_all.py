"""`make bench`: every benchmark in turn (about 75 minutes on 2 cores; BENCH=name runs one)."""

from __future__ import annotations

import os
import sys

from benchmarks import (
    bench_compile,
    bench_cuda_step,
    bench_data,
    bench_defaults,
    bench_http,
    bench_methods,
    bench_precision,
    bench_probe_rows,
    bench_serving,
    bench_sst2_quality,
    bench_step_profile,
    bench_training_speed,
)
from benchmarks.common import RESULTS

STEPS = {
    "data": lambda: bench_data.main(),
    "training_speed": lambda: bench_training_speed.main([]),
    "sst2_6000": lambda: bench_sst2_quality.main(
        ["--sentences", "6000", "--bare-trainer", "--keep", str(RESULTS.parent / ".work" / "sst2-model")]
    ),
    "serving": lambda: bench_serving.main([]),
    "http": lambda: bench_http.main([]),
    "methods": lambda: bench_methods.main([]),
    "precision": lambda: bench_precision.main([]),
    "step_profile": lambda: bench_step_profile.main([]),
    "step_compile": lambda: (bench_compile.main([]), bench_compile.main(["--attention", "sdpa"])),
    "defaults_bbc": lambda: bench_defaults.main(["--data", "bbc", "--epochs", "3"]),
    "defaults_sst2": lambda: bench_defaults.main(["--data", "sst2"]),
    "probe_rows": lambda: bench_probe_rows.main([]),
    "sst2_full": lambda: bench_sst2_quality.main(["--sentences", "0", "--epochs", "1"]),
    # The defaults' epochs as the upper bound, a 570 s budget planning the run's length (budget.py).
    "sst2_full_budget": lambda: bench_sst2_quality.main(
        ["--sentences", "0", "--set", '{"max_train_seconds": 570}', "--name", "sst2_quality_full_budget"]
    ),
    # On a machine with a GPU (README, Measured: the GPU rows).
    "sst2_6000_cuda": lambda: bench_sst2_quality.main(["--device", "cuda", "--bare-trainer"]),
    "sst2_full_cuda": lambda: bench_sst2_quality.main(["--device", "cuda", "--sentences", "0"]),
    "training_speed_cuda": lambda: bench_training_speed.main(["--device", "cuda", "--sentences", "30000"]),
    "step_profile_cuda": lambda: bench_cuda_step.main([]),
}
# `make bench` on a CPU-only machine runs the others.
DEFAULT = [name for name in STEPS if not name.endswith("_cuda")]


def main() -> int:
    chosen = os.environ.get("BENCH", "").split(",") if os.environ.get("BENCH") else DEFAULT
    unknown = [name for name in chosen if name not in STEPS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(STEPS)}", file=sys.stderr)
        return 2
    for name in chosen:
        print(f"== {name}", flush=True)
        STEPS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
