from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ft_assets.export import measure_latency

TEXTS = ["short", "a somewhat longer sentence about a late delivery", "refund please " * 8]


@pytest.mark.parametrize("target", ["torch", "fp32", "int8"])
def test_latency_numbers_are_sane(target: str, finetuned_dir: Path, graphs: tuple[Path, Path]) -> None:
    path = {"torch": finetuned_dir, "fp32": graphs[0], "int8": graphs[1]}[target]
    threads_before = torch.get_num_threads()
    report = measure_latency(path, TEXTS, tokenizer_dir=finetuned_dir, max_length=64, min_samples=6, warmup=1)
    assert report.backend == ("torch" if target == "torch" else "onnxruntime")
    assert report.threads == 1 and report.batch_size == 32 and report.n_samples == 6
    assert 0 < report.p50_ms <= report.p95_ms < 10_000
    assert 0 < report.texts_per_s < 1e7
    assert torch.get_num_threads() == threads_before


def test_latency_rejects_bad_arguments(graphs: tuple[Path, Path], finetuned_dir: Path) -> None:
    with pytest.raises(ValueError, match="at least one text"):
        measure_latency(graphs[0], [], tokenizer_dir=finetuned_dir)
    with pytest.raises(ValueError, match="threads"):
        measure_latency(graphs[0], TEXTS, tokenizer_dir=finetuned_dir, threads=0)
