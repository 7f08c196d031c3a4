"""What the linear probe loses when it reads a sample of a large train split instead of every row.

The probe's cost is one encoder pass over the rows it reads. On a large train split that pass is minutes
on CPU, while a linear head on a few hundred features is pinned down by a few thousand rows. This fits
the probe on every train row and on class-stratified samples (`ft_assets.training.probe.sample_rows`),
each on a fresh copy of the bundled MiniLM, and scores each fitted head, before any fine-tuning, on a
held-out set: SST-2 train phrases of 15+ words outside the sample (bench_defaults' sst2_long, never dev).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from sklearn.metrics import accuracy_score
from transformers import AutoTokenizer

from benchmarks.bench_defaults import encode, prepared_split, tuning_sets
from benchmarks.common import minilm_path, write_result
from ft_assets.training.features import cache_head_inputs, head_of
from ft_assets.training.model import load_classifier
from ft_assets.training.probe import MAX_ROWS, fit_head
from ft_resources.accelerator import AcceleratorResource


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sst2-train", type=int, default=60000, help="SST-2 train rows sampled")
    parser.add_argument("--rows", default=f"0,{MAX_ROWS},2048", help="probe sample sizes; 0 = every row")
    args = parser.parse_args(argv)
    train_frame, heldout_frame = tuning_sets("sst2_long", args.sst2_train)
    labels = sorted(set(train_frame["label"]))
    label_ids = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    train = prepared_split(encode(train_frame, tokenizer, label_ids))
    heldout = prepared_split(encode(heldout_frame, tokenizer, label_ids))
    device = AcceleratorResource(device="cpu", precision="auto").resolve()
    probes = {}
    for rows in (int(size) for size in args.rows.split(",")):
        model, _ = load_classifier(minilm_path(), labels, seed=42, pooling="auto")
        load = os.getloadavg()[0]
        started = time.perf_counter()
        fit = fit_head(model, train, tokenizer, device, 64, seed=42, max_rows=rows or len(train.labels))
        seconds = time.perf_counter() - started
        features = cache_head_inputs(model, heldout, tokenizer, device, 64).with_format("torch")["features"]
        with torch.no_grad():
            predicted = head_of(model)(features[:]).argmax(1).numpy()
        probes[str(rows or "all")] = {
            "rows_read": fit.rows,
            "seconds": round(seconds, 1),
            "strength_C": fit.strength,
            "train_accuracy": round(fit.train_accuracy, 4),
            "heldout_accuracy": round(float(accuracy_score(heldout.labels, predicted)), 4),
            "load_average_1min_at_start": round(load, 2),
        }
        print(rows, probes[str(rows or "all")], flush=True)
    return write_result(
        "probe_rows",
        {
            "train_rows": len(train.labels),
            "heldout_rows": len(heldout.labels),
            "precision": device.precision,
            "probes": probes,
        },
    )


if __name__ == "__main__":
    main()
