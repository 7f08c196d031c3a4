"""Serving speed and INT8 quality on SST-2 dev, for a MiniLM model fine-tuned on SST-2.

Builds a production-style bundle (fp32 + INT8 ONNX) from the model folder that
`bench_sst2_quality --keep DIR` left, then times the real serving paths on the 872 dev sentences:
torch eager and OnnxClassifier fp32 and INT8 (onnxruntime), all encoding as the bundle does (bundle.json).
Targets: ORT fp32 >= 1.8x torch at batch 1, INT8 >= 2.5x, ft-predict cold start < 1.5 s,
INT8 dev accuracy within 1 point of fp32.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from ft_serving.classifier import OnnxClassifier

from benchmarks.bench_sst2_quality import MAX_LENGTH
from benchmarks.common import RESULTS, sst2, write_result
from ft_assets.export import (
    LatencyReport,
    export_onnx,
    measure_latency,
    onnx_runner,
    quantize_int8,
    torch_runner,
    write_serving_files,
)


def build_bundle(model_dir: Path, bundle: Path, max_length: int) -> Path:
    bundle.mkdir(parents=True, exist_ok=True)
    export_onnx(model_dir, bundle / "model.onnx")
    quantize_int8(bundle / "model.onnx", bundle / "model.int8.onnx")
    write_serving_files(
        model_dir,
        bundle,
        model_version="bench-sst2",
        data_version="sst2-6000",
        base_model="all-MiniLM-L6-v2",
        max_length=max_length,
    )
    return bundle


def figures(report: LatencyReport) -> dict[str, float]:
    return {
        "p50_ms": round(report.p50_ms, 2),
        "p95_ms": round(report.p95_ms, 2),
        "batch32_texts_per_s": round(report.texts_per_s, 1),
    }


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
    parser.add_argument(
        "--max-length", type=int, default=MAX_LENGTH, help="the max_length the model was trained with"
    )
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise SystemExit(
            f"{args.model}: no model; run `python -m benchmarks.bench_sst2_quality --keep {args.model}`"
        )
    bundle = build_bundle(args.model, RESULTS.parent / ".work" / "sst2-bundle", args.max_length)
    dev = sst2("dev")
    texts, truth = dev["text"].tolist(), dev["label"].tolist()
    threads = torch.get_num_threads()
    fp32, int8 = OnnxClassifier(bundle, threads=threads), OnnxClassifier(bundle, int8=True, threads=threads)
    accuracy = {
        name: sum(p.label == y for p, y in zip(clf.predict(texts), truth, strict=True)) / len(truth)
        for name, clf in (("onnx_fp32", fp32), ("onnx_int8", int8))
    }
    runners = {
        "torch": torch_runner(args.model, fp32.spec),
        "onnx_fp32": onnx_runner(bundle, int8=False, threads=threads),
        "onnx_int8": onnx_runner(bundle, int8=True, threads=threads),
    }
    # Batch-1 over the first 300 sentences, batch-32 over the same 300: the served paths, tokenizer included.
    results = {
        name: figures(
            measure_latency(run, texts[:300], backend=name, threads=threads, warmup=5, min_samples=300)
        )
        for name, run in runners.items()
    }
    speedup = {
        name: round(results["torch"]["p50_ms"] / results[name]["p50_ms"], 2)
        for name in ("onnx_fp32", "onnx_int8")
    }
    load = os.getloadavg()
    return write_result(
        "serving",
        {
            "texts": "SST-2 dev, 872 sentences (latency over the first 300, batch 1 and batch 32)",
            "max_length": args.max_length,
            "threads": threads,
            "load_average_1_5_15_min": [round(x, 2) for x in load],
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
