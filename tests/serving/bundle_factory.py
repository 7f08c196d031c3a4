"""Fine-tuned model directories and production-layout bundles built from the tiny BERT.

Exporting takes seconds, so results are cached under pytest's session base folder: the export
tests and the serving tests share one export per session.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TINY_LABELS

_DONE_MARKER = ".complete"


def make_finetuned_dir(base_dir: Path, target: Path, seed: int = 0) -> Path:
    """A "fine-tuned" classifier: the tiny base plus a seeded random 3-label head, with tokenizer."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        base_dir,
        num_labels=len(TINY_LABELS),
        id2label=dict(enumerate(TINY_LABELS)),
        label2id={label: i for i, label in enumerate(TINY_LABELS)},
    )
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(target)
    return target


def cached(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    target = factory.getbasetemp() / name
    if not (target / _DONE_MARKER).exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        build(target)
        (target / _DONE_MARKER).touch()
    return target


def shared_finetuned_dir(factory: pytest.TempPathFactory, base_dir: Path, seed: int = 0) -> Path:
    return cached(factory, f"finetuned-seed{seed}", lambda target: make_finetuned_dir(base_dir, target, seed))


def shared_graphs(factory: pytest.TempPathFactory, model_dir: Path) -> tuple[Path, Path]:
    """(model.onnx, model.int8.onnx) for ``model_dir``, exported once per session."""
    from ft_assets.export import export_onnx, quantize_int8

    def build(target: Path) -> None:
        export_onnx(model_dir, target / "model.onnx")
        quantize_int8(target / "model.onnx", target / "model.int8.onnx")

    folder = cached(factory, f"graphs-{model_dir.name}", build)
    return folder / "model.onnx", folder / "model.int8.onnx"


def write_test_bundle(
    target: Path,
    model_dir: Path,
    fp32: Path,
    int8: Path,
    *,
    model_version: str = "test-model-1",
    max_length: int = 64,
) -> Path:
    """The production bundle layout (README, "Serving"), written by the exporter's own bundle writer."""
    from ft_assets.export import write_serving_files

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(fp32, target / "model.onnx")
    shutil.copy(int8, target / "model.int8.onnx")
    write_serving_files(
        model_dir,
        target,
        model_version=model_version,
        data_version="d-test",
        base_model="tiny-bert",
        max_length=max_length,
    )
    report = {
        "accuracy": 0.5,
        "macro_f1": 0.5,
        "model_version": model_version,
        "data_version": "d-test",
        "max_length": max_length,
    }
    (target / "report.json").write_text(json.dumps(report))
    (target / "MODEL_CARD.md").write_text("# Test model\n")
    return target
