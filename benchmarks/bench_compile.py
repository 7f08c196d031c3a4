"""Does torch.compile speed up a CPU training step of the defaults? Eager against compiled, same steps.

The model is bench_step_profile's (the defaults: mean-pooled MiniLM head, used word rows, fast CPU
dropout, bf16 autocast, fused AdamW, gradient clipping). `--attention sdpa` keeps transformers' own SDPA
attention instead of the fast dropout's, so inductor sees (and may fuse) the stock dropout. The compiled
model is built with `dynamic=True`, as training on length-grouped batches of many lengths would need.
Reported: seconds to compile (the first steps, over several lengths) and ms a step at each length.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.bench_step_profile import defaults_model, defaults_optimizer, training_step
from benchmarks.common import write_result


def _stepper(model: torch.nn.Module, compiled: bool, batch_size: int) -> Callable[[int], None]:
    forward = torch.compile(model, dynamic=True) if compiled else model
    optimizer = defaults_optimizer(model)

    def step(tokens: int) -> None:
        ids = torch.randint(1000, 20000, (batch_size, tokens))
        training_step(
            model, forward, optimizer, ids, torch.ones_like(ids), torch.randint(0, 2, (batch_size,))
        )

    return step


def _measure(step: Callable[[int], None], lengths: list[int], steps: int) -> dict[str, float]:
    started = time.perf_counter()
    for tokens in (14, 20, 9, 30):  # the first calls, where compilation happens
        step(tokens)
    result = {"first_4_steps_seconds": round(time.perf_counter() - started, 1)}
    for tokens in lengths:
        for _ in range(3):
            step(tokens)
        started = time.perf_counter()
        for _ in range(steps):
            step(tokens)
        result[f"ms_per_step_{tokens}_tokens"] = round((time.perf_counter() - started) / steps * 1000, 1)
    return result


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lengths", default="8,14,25", help="token lengths timed")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per length")
    parser.add_argument("--used-rows", type=int, default=11_561)
    parser.add_argument("--attention", choices=["fast_dropout", "sdpa"], default="fast_dropout")
    args = parser.parse_args(argv)
    lengths = [int(n) for n in args.lengths.split(",")]
    results = {}
    for name, compiled in (("eager", False), ("compiled", True)):
        torch.manual_seed(0)
        model = defaults_model(args.used_rows, fast_dropout=args.attention == "fast_dropout")
        results[name] = _measure(_stepper(model, compiled, args.batch_size), lengths, args.steps)
        print(name, results[name], flush=True)
    return write_result(
        f"step_compile_{args.attention}",
        {"batch_size": args.batch_size, "attention": args.attention, "torch": torch.__version__, **results},
    )


if __name__ == "__main__":
    main()
