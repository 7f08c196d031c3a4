from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ft_serving.bundle import open_session
from transformers import AutoTokenizer

from ft_assets.export import check_parity, quantize_int8

TEXTS = [
    "where is my order",
    "I was billed twice for the same month",
    "the login page shows an error",
    "please cancel my subscription",
    "can I change the delivery address",
    "the download never finishes",
    "what payment methods do you accept",
    "my package arrived damaged",
    "how do I reset my password",
    "the invoice total looks wrong",
] * 2


def _logits(path: Path, tokenizer_dir: Path) -> np.ndarray:
    encoded = AutoTokenizer.from_pretrained(tokenizer_dir)(TEXTS, padding=True, return_tensors="np")
    session = open_session(path)
    return session.run(["logits"], {i.name: encoded[i.name].astype(np.int64) for i in session.get_inputs()})[
        0
    ]


def test_int8_is_smaller_and_agrees_on_most_inputs(
    finetuned_dir: Path, graphs: tuple[Path, Path], bundle: Path
) -> None:
    fp32, int8 = graphs
    assert int8.stat().st_size < 0.5 * fp32.stat().st_size
    fp32_logits, int8_logits = _logits(fp32, finetuned_dir), _logits(int8, finetuned_dir)
    assert int8_logits.shape == fp32_logits.shape
    agreement = np.mean(fp32_logits.argmax(axis=1) == int8_logits.argmax(axis=1))
    assert agreement >= 0.8
    # Quantization error is small but real: the fp32 gate would reject it, a loose one accepts it.
    assert not check_parity(finetuned_dir, bundle, TEXTS, tolerance=1e-7, int8=True).passed
    assert check_parity(finetuned_dir, bundle, TEXTS[:4], tolerance=0.05, int8=True).max_abs_diff < 0.05


def test_quantize_leaves_no_temp_files(
    graphs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # symbolic shape inference used to drop files into the working directory
    out = quantize_int8(graphs[0], tmp_path / "out" / "model.int8.onnx")
    assert out.is_file()
    assert list(work.iterdir()) == []
    assert [p.name for p in out.parent.iterdir()] == ["model.int8.onnx"]
