"""Where one CPU training step of the pipeline's defaults goes: torch.profiler over a few steps.

The model is what train_classifier trains by default: the mean-pooled MiniLM head, the word table trained
by its used rows, fast CPU dropout, bf16 autocast, fused AdamW and gradient clipping. The batch is
`--batch-size` x `--tokens` random token ids (SST-2 train's mean is 13.3 tokens). Reported: seconds a
step, the matrix products' share and rate (FLOPs counted from the encoder's linear layers), the ops that
take the most time, and how many operator calls autocast adds to a step (bf16 against fp32).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile

from benchmarks.common import minilm_path, write_result
from ft_assets.training.fast_dropout import use_fast_dropout
from ft_assets.training.model import load_classifier
from ft_assets.training.word_rows import UsedRowsEmbedding

GEMMS = ("aten::mm", "aten::addmm")


def defaults_model(used_rows: int, fast_dropout: bool = True, device: str = "cpu") -> torch.nn.Module:
    model, _ = load_classifier(minilm_path(), ["0", "1"], seed=0)
    table = model.get_input_embeddings()
    model.set_input_embeddings(UsedRowsEmbedding(table, torch.arange(1, used_rows + 1).numpy()))
    if fast_dropout:
        use_fast_dropout(model, model)
    return model.to(device).train()


def defaults_optimizer(model: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5, fused=True)


def training_step(
    model: torch.nn.Module,
    forward: Callable[..., Any],
    optimizer: torch.optim.Optimizer,
    ids: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    bf16: bool = True,
) -> None:
    """One step as the Trainer takes it: forward (through ``forward``, the model or a compiled wrapper of
    it), loss, backward, gradient clipping, optimizer step."""
    context = torch.autocast(ids.device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with context:
        logits = forward(input_ids=ids, attention_mask=mask)["logits"]
    torch.nn.functional.cross_entropy(logits.float(), labels).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad()


def _linear_weights(model: torch.nn.Module) -> int:
    return sum(
        m.weight.numel()
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and "encoder.layer." in name
    )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=14)
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--profiled-steps", type=int, default=5)
    parser.add_argument("--used-rows", type=int, default=11_561, help="word rows the train split uses")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model = defaults_model(args.used_rows)
    ids = torch.randint(1000, 20000, (args.batch_size, args.tokens))
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 2, (args.batch_size,))
    optimizer = defaults_optimizer(model)

    def step(bf16: bool = True) -> None:
        training_step(model, model, optimizer, ids, mask, labels, bf16)

    for _ in range(5):
        step()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds_per_step = (time.perf_counter() - started) / args.steps

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.profiled_steps):
            step()
    averages = prof.key_averages()
    per_step_ms = {e.key: e.self_cpu_time_total / 1000 / args.profiled_steps for e in averages}
    gemm_ms = sum(per_step_ms.get(name, 0.0) for name in GEMMS)
    # Forward, and backward's two products (input and weight gradients): 6 FLOPs a weight a token.
    gemm_flops = 6 * _linear_weights(model) * args.batch_size * args.tokens
    top = sorted(per_step_ms.items(), key=lambda item: -item[1])[:15]
    return write_result(
        "step_profile",
        {
            "batch": [args.batch_size, args.tokens],
            "seconds_per_step": round(seconds_per_step, 4),
            "profiled_ms_per_step": round(sum(per_step_ms.values()), 1),
            "matrix_products_ms_per_step": round(gemm_ms, 1),
            "matrix_products_gflop_per_step": round(gemm_flops / 1e9, 2),
            "matrix_products_gflop_per_second": round(gemm_flops / (gemm_ms / 1000) / 1e9, 1),
            "top_ops_ms_per_step": {name: round(ms, 2) for name, ms in top},
            "operator_calls_per_step": {"fp32": _calls(step, False), "bf16_autocast": _calls(step, True)},
        },
    )


def _calls(step, bf16: bool) -> int:
    """Top-level aten calls in one step (those not made from inside another aten op)."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step(bf16)
    return sum(1 for e in prof.events() if e.name.startswith("aten::") and not _inside_aten(e))


def _inside_aten(event) -> bool:
    return event.cpu_parent is not None and event.cpu_parent.name.startswith("aten::")


if __name__ == "__main__":
    main()
