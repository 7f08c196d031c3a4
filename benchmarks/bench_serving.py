"""Serving speed and INT8 quality on SST-2 dev, for a MiniLM model fine-tuned on SST-2.

Builds a production-style bundle (fp32 + INT8 ONNX) from the model folder that
`bench_sst2_quality --keep DIR` left, then times the real serving paths on the 872 dev sentences:
torch eager (HF tokenizer + model), OnnxClassifier fp32 and INT8 (tokenizers + onnxruntime).
Targets: ORT fp32 >= 1.8x torch at batch 1, INT8 >= 2.5x, ft-predict cold start < 1.5 s,
INT8 dev accuracy within 1 point of fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from ft_serving.classifier import OnnxClassifier
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from benchmarks.common import RESULTS, sst2, write_result
from ft_assets.export.onnx_export import export_onnx
from ft_assets.export.quantize import quantize_int8
from ft_assets.export.serving_files import write_serving_files


def build_bundle(model_dir: Path, bundle: Path) -> Path:
    bundle.mkdir(parents=True, exist_ok=True)
    export_onnx(model_dir, bundle / "model.onnx")
    quantize_int8(bundle / "model.onnx", bundle / "model.int8.onnx")
    id2label = json.loads((model_dir / "config.json").read_text())["id2label"]
    write_serving_files(model_dir, bundle, [id2label[str(i)] for i in range(len(id2label))])
    return bundle


def timings(run: Callable[[Sequence[str]], object], texts: list[str]) -> dict[str, float]:
    for text in texts[:5]:
        run([text])
    single = []
    for text in texts[:300]:
        started = time.perf_counter()
        run([text])
        single.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        run(texts[i : i + 32])
    batch32 = len(texts) / (time.perf_counter() - started)
    return {
        "p50_ms": round(statistics.median(single), 2),
        "p95_ms": round(float(np.percentile(single, 95)), 2),
        "batch32_texts_per_s": round(batch32, 1),
    }


def torch_runner(model_dir: Path) -> Callable[[Sequence[str]], object]:
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def run(texts: Sequence[str]) -> object:
        with torch.inference_mode():
            return model(
                **tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
            )

    return run


def cold_start(bundle: Path) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ft_serving.predict_cli", "--model", str(bundle), "a fine film"],
            check=True,
            capture_output=True,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=RESULTS.parent / ".work" / "sst2-model")
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise SystemExit(
            f"{args.model}: no model; run `python -m benchmarks.bench_sst2_quality --keep {args.model}`"
        )
    bundle = build_bundle(args.model, RESULTS.parent / ".work" / "sst2-bundle")
    dev = sst2("dev")
    texts, truth = dev["text"].tolist(), dev["label"].tolist()
    threads = torch.get_num_threads()
    fp32, int8 = OnnxClassifier(bundle, threads=threads), OnnxClassifier(bundle, int8=True, threads=threads)
    accuracy = {
        name: sum(p.label == y for p, y in zip(clf.predict(texts), truth, strict=True)) / len(truth)
        for name, clf in (("onnx_fp32", fp32), ("onnx_int8", int8))
    }
    results = {
        "torch": timings(torch_runner(args.model), texts),
        "onnx_fp32": timings(fp32.predict, texts),
        "onnx_int8": timings(int8.predict, texts),
    }
    speedup = {
        name: round(results["torch"]["p50_ms"] / results[name]["p50_ms"], 2)
        for name in ("onnx_fp32", "onnx_int8")
    }
    return write_result(
        "serving",
        {
            "texts": "SST-2 dev, 872 sentences (batch-1 figures over the first 300)",
            "threads": threads,
            "latency": results,
            "batch1_speedup_vs_torch": speedup,
            "dev_accuracy": {k: round(v, 4) for k, v in accuracy.items()},
            "int8_accuracy_drop_points": round(100 * (accuracy["onnx_fp32"] - accuracy["onnx_int8"]), 2),
            "ft_predict_cold_start_s": round(cold_start(bundle), 3),
            "sizes_mb": {
                n: round((bundle / n).stat().st_size / 2**20, 1) for n in ("model.onnx", "model.int8.onnx")
            },
            "targets": {"onnx_fp32": 1.8, "onnx_int8": 2.5, "cold_start_s": 1.5, "int8_drop_points": 1.0},
        },
    )


if __name__ == "__main__":
    main()
