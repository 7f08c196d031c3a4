"""Where a CUDA training step of the pipeline's defaults goes: is the GPU busy, or waiting on launches?

The step is bench_step_profile's (mean-pooled MiniLM, the word table trained by its used rows, fused
AdamW, gradient clipping) on CUDA, in fp32, fp32 with TF32 matrix products, and bf16 autocast, at
several batch shapes (rows x tokens). For each: wall ms a step, the GPU's kernel ms a step (its busy
share of the wall time) and kernels launched a step. A step whose kernels take far less than its wall
time is bound by Python and kernel launches: there autocast's extra cast kernels cost time and faster
arithmetic buys nothing. `--compile` adds the same step through torch.compile (inductor, one graph per
shape). `--device cpu` only smoke-tests the code (no kernels are counted).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from benchmarks.bench_step_profile import defaults_model, defaults_optimizer, training_step
from benchmarks.common import environment, write_result

# name: (bf16 autocast, TF32 matrix products)
PRECISIONS = {"fp32": (False, False), "tf32": (False, True), "bf16_autocast": (True, False)}


def _shapes(text: str) -> list[tuple[int, int]]:
    return [(int(rows), int(tokens)) for rows, tokens in (item.split("x") for item in text.split(","))]


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def measure(step: Callable[[], None], device: str, steps: int, profiled_steps: int) -> dict[str, Any]:
    for _ in range(5):
        step()
    _sync(device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    wall_ms = (time.perf_counter() - started) / steps * 1000
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(profiled_steps):
            step()
        _sync(device)
    kernels = [e for e in prof.events() if e.device_type == DeviceType.CUDA]
    kernel_ms = sum(e.time_range.elapsed_us() for e in kernels) / 1000 / profiled_steps
    return {
        "wall_ms_per_step": round(wall_ms, 2),
        "gpu_kernel_ms_per_step": round(kernel_ms, 2),
        "gpu_busy_share": round(kernel_ms / wall_ms, 3),
        "kernels_per_step": round(len(kernels) / profiled_steps),
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", default="32x16,32x64,128x64,256x128", help="rows x tokens, by commas")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per variant and shape")
    parser.add_argument("--profiled-steps", type=int, default=5)
    parser.add_argument("--used-rows", type=int, default=11_561, help="word rows the train split uses")
    parser.add_argument("--compile", action="store_true", help="also torch.compile the model")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--name", help="result file name (default: cuda_step)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model = defaults_model(args.used_rows, fast_dropout=False, device=args.device)
    optimizer = defaults_optimizer(model)
    forwards: dict[str, Callable[..., Any]] = {"eager": model}
    if args.compile:
        forwards["compiled"] = torch.compile(model)
    results: dict[str, dict[str, Any]] = {}
    for rows, tokens in _shapes(args.shapes):
        ids = torch.randint(1000, 20000, (rows, tokens), device=args.device)
        mask = torch.ones_like(ids)
        labels = torch.randint(0, 2, (rows,), device=args.device)
        shape = f"{rows}x{tokens}"
        for mode, forward in forwards.items():
            for precision, (bf16, tf32) in PRECISIONS.items():
                torch.backends.cuda.matmul.allow_tf32 = tf32
                torch.backends.cudnn.allow_tf32 = tf32
                step = partial(training_step, model, forward, optimizer, ids, mask, labels, bf16)
                started = time.perf_counter()
                step()  # the first call compiles a compiled forward for this shape
                _sync(args.device)
                first_ms = (time.perf_counter() - started) * 1000
                figures = measure(step, args.device, args.steps, args.profiled_steps)
                key = f"{mode}_{precision}" if args.compile else precision
                results.setdefault(shape, {})[key] = {**figures, "first_step_ms": round(first_ms, 1)}
                print(shape, key, results[shape][key], flush=True)
    # Back to torch's defaults for whatever runs next in this process.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = True
    return write_result(
        args.name or ("cuda_step" if args.device == "cuda" else "cuda_step_smoke_cpu"),
        {
            "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
            "environment": environment(),
            "model": "MiniLM-L6 mean-pooled head, used word rows trained, fused AdamW, clipping",
            "steps": args.steps,
            "per_shape": results,
        },
    )


if __name__ == "__main__":
    main()
