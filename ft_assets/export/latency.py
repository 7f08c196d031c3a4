"""Latency of a text classifier: p50/p95 at batch 1 and throughput at batch 32, tokenization included.

A runner maps texts to scores. ``torch_runner`` is the fine-tuned model in eager torch, encoded exactly
as the bundle encodes (its ``bundle.json``), and ``onnx_runner`` is the served path itself
(``OnnxClassifier``), so the figures compare what a caller of each would pay.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ft_serving.classifier import OnnxClassifier
from ft_serving.spec import BundleSpec

from ft_assets.export.loading import text_encoder, torch_logits
from ft_assets.training.model import load_finetuned

Runner = Callable[[Sequence[str]], object]


@dataclass(frozen=True)
class LatencyReport:
    backend: str
    threads: int
    p50_ms: float
    p95_ms: float
    texts_per_s: float
    batch_size: int
    n_samples: int


def torch_runner(model_dir: Path, spec: BundleSpec) -> Runner:
    model, tokenizer = load_finetuned(Path(model_dir))
    encoder = text_encoder(model, tokenizer, spec.max_length)
    return lambda texts: torch_logits(model, encoder.feeds(encoder.encode(texts)))


def onnx_runner(bundle_dir: Path, *, int8: bool, threads: int) -> Runner:
    classifier = OnnxClassifier(bundle_dir, int8=int8, threads=threads)
    return classifier.predict


def measure_latency(
    run: Runner,
    texts: Sequence[str],
    *,
    backend: str,
    threads: int = 1,
    warmup: int = 3,
    batch_size: int = 32,
    min_samples: int = 20,
) -> LatencyReport:
    """Time ``run`` with torch limited to ``threads`` (build ONNX runners with the same count).

    Texts are cycled to give at least ``min_samples`` batch-1 timings and one full batch.
    """
    if not texts:
        raise ValueError("measure_latency needs at least one text")
    with _torch_threads(threads):
        singles = list(itertools.islice(itertools.cycle(texts), max(min_samples, len(texts))))
        batched = list(itertools.islice(itertools.cycle(texts), max(batch_size, len(texts))))
        for text in singles[:warmup]:
            run([text])
        run(batched[:batch_size])
        per_text_ms = [_elapsed_s(run, [text]) * 1000.0 for text in singles]
        batches = [batched[i : i + batch_size] for i in range(0, len(batched), batch_size)]
        total_s = sum(_elapsed_s(run, batch) for batch in batches)
    return LatencyReport(
        backend=backend,
        threads=threads,
        p50_ms=statistics.median(per_text_ms),
        p95_ms=float(np.percentile(per_text_ms, 95)),
        texts_per_s=len(batched) / total_s,
        batch_size=batch_size,
        n_samples=len(per_text_ms),
    )


def _elapsed_s(run: Runner, texts: Sequence[str]) -> float:
    start = time.perf_counter()
    run(texts)
    return time.perf_counter() - start


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """torch's thread count is process-wide: set it for the measurement and restore it after."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
