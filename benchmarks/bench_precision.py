"""Microbenchmark: MiniLM training steps/s on CPU, fp32 against bf16 autocast (and frozen embeddings, and
the pipeline's fast CPU dropout).

Batch 32 of ~30-token SST-2 sentences (the length of a typical grouped batch). Variants alternate round
by round, so load from other processes hits both alike; the result records `uptime` load before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from benchmarks.common import minilm_path, sst2, write_result
from ft_assets.training.fast_dropout import use_fast_dropout

# name -> (bf16 autocast, embeddings frozen, fast dropout): the embeddings are half of MiniLM's 22.7M
# parameters, so their gradient and AdamW update are a cost worth knowing next to the precision; the fast
# dropout (ft_assets/training/fast_dropout.py) replaces torch's per-element bernoulli_ masks.
VARIANTS = {
    "fp32": (False, False, False),
    "bf16_autocast": (True, False, False),
    "fp32_frozen_embeddings": (False, True, False),
    "bf16_autocast_frozen_embeddings": (True, True, False),
    "bf16_autocast_fast_dropout": (True, False, True),
    "bf16_autocast_frozen_embeddings_fast_dropout": (True, True, True),
}


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


def _step(model, optimizer, batch, labels, bf16: bool) -> None:
    context = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with context:
        loss = model(**batch, labels=labels).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=30)
    parser.add_argument("--steps", type=int, default=8, help="timed steps per variant per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    texts = sst2("train")["text"].tolist()[: args.batch_size]
    batch = tokenizer(
        texts, padding="max_length", truncation=True, max_length=args.tokens, return_tensors="pt"
    )
    labels = torch.zeros(args.batch_size, dtype=torch.long)
    models = {}
    for name, (bf16, frozen_embeddings, fast) in VARIANTS.items():
        model = AutoModelForSequenceClassification.from_pretrained(
            minilm_path(), num_labels=2, use_safetensors=True
        )
        model.train()
        if frozen_embeddings:
            model.base_model.embeddings.requires_grad_(False)
        if fast:
            use_fast_dropout(model, model)
        trainable = [p for p in model.parameters() if p.requires_grad]
        models[name] = (model, torch.optim.AdamW(trainable, lr=1e-5), bf16)
    load_before = _load()
    seconds = dict.fromkeys(models, 0.0)
    for model, optimizer, bf16 in models.values():  # warm-up: kernels, allocator
        for _ in range(2):
            _step(model, optimizer, batch, labels, bf16)
    for _ in range(args.rounds):
        for name, (model, optimizer, bf16) in models.items():
            started = time.perf_counter()
            for _ in range(args.steps):
                _step(model, optimizer, batch, labels, bf16)
            seconds[name] += time.perf_counter() - started
    total = args.rounds * args.steps
    rate = {name: total / s for name, s in seconds.items()}
    return write_result(
        "precision_microbench",
        {
            "batch_size": args.batch_size,
            "tokens_per_text": args.tokens,
            "steps_per_variant": total,
            "load_average_before": load_before,
            "load_average_after": _load(),
            "steps_per_second": {k: round(v, 3) for k, v in rate.items()},
            "tokens_per_second": {k: round(v * args.batch_size * args.tokens) for k, v in rate.items()},
            "speedup_vs_fp32": {k: round(v / rate["fp32"], 2) for k, v in rate.items()},
        },
    )


if __name__ == "__main__":
    main()
