"""Latency of a torch model or an ONNX graph: p50/p95 at batch 1 and throughput at batch 32."""

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
from transformers import AutoTokenizer

from ft_assets.export.loading import encode, load_finetuned, ort_logits, ort_session, torch_logits

Runner = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class LatencyReport:
    backend: str
    threads: int
    p50_ms: float
    p95_ms: float
    texts_per_s: float
    batch_size: int
    n_samples: int


def measure_latency(
    model_path: Path,
    texts: Sequence[str],
    *,
    tokenizer_dir: Path | None = None,
    max_length: int = 128,
    threads: int = 1,
    warmup: int = 3,
    batch_size: int = 32,
    min_samples: int = 20,
) -> LatencyReport:
    """Time ``model_path``: a fine-tuned model directory (torch) or a ``.onnx`` file (onnxruntime).

    Timings include tokenization, as a caller of the served model pays for it too. The tokenizer
    comes from ``tokenizer_dir``, else from the model directory or the ``.onnx`` file's folder.
    Texts are cycled to give at least ``min_samples`` batch-1 timings and one full batch.
    """
    if not texts:
        raise ValueError("measure_latency needs at least one text")
    model_path = Path(model_path)
    is_onnx = model_path.suffix == ".onnx"
    source = Path(tokenizer_dir) if tokenizer_dir else (model_path.parent if is_onnx else model_path)
    backend = "onnxruntime" if is_onnx else "torch"
    with _torch_threads(threads):
        run = (
            _ort_runner(model_path, source, max_length, threads)
            if is_onnx
            else _torch_runner(model_path, max_length)
        )
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


def _torch_runner(model_dir: Path, max_length: int) -> Runner:
    model, tokenizer = load_finetuned(model_dir)
    return lambda texts: torch_logits(model, encode(tokenizer, texts, max_length))


def _ort_runner(onnx_path: Path, tokenizer_dir: Path, max_length: int, threads: int) -> Runner:
    session = ort_session(onnx_path, threads)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), trust_remote_code=False)
    return lambda texts: ort_logits(session, encode(tokenizer, texts, max_length))


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
