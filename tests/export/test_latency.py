from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ft_serving.spec import read_spec

from ft_assets.export import measure_latency, onnx_runner, torch_runner

TEXTS = ["short", "a somewhat longer sentence about a late delivery", "refund please " * 8]


@pytest.mark.parametrize("target", ["torch", "fp32", "int8"])
def test_latency_numbers_are_sane(target: str, finetuned_dir: Path, bundle: Path) -> None:
    threads_before = torch.get_num_threads()
    run = (
        torch_runner(finetuned_dir, read_spec(bundle))
        if target == "torch"
        else onnx_runner(bundle, int8=target == "int8", threads=1)
    )
    report = measure_latency(run, TEXTS, backend=target, min_samples=6, warmup=1)
    assert report.backend == target
    assert report.threads == 1 and report.batch_size == 32 and report.n_samples == 6
    assert 0 < report.p50_ms <= report.p95_ms < 10_000
    assert 0 < report.texts_per_s < 1e7
    assert torch.get_num_threads() == threads_before


def test_latency_rejects_bad_arguments(bundle: Path) -> None:
    run = onnx_runner(bundle, int8=False, threads=1)
    with pytest.raises(ValueError, match="at least one text"):
        measure_latency(run, [], backend="fp32")
    with pytest.raises(ValueError, match="threads"):
        measure_latency(run, TEXTS, backend="fp32", threads=0)
