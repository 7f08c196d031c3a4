from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from ft_serving.bundle import open_session
from ft_serving.spec import MODEL_INPUTS, read_spec
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from ft_assets.export import PARITY_TOLERANCE, ExportError, check_parity, write_serving_files

VARIED_TEXTS = [
    "hi",
    "my parcel has not arrived after two weeks of waiting",
    "refund",
    "the app crashes every time I open the settings page on my phone " * 3,
    "🙂 你好 مرحبا",
    "invoice #4411 was charged twice",
    "ok",
]


def test_export_is_one_self_contained_file_with_dynamic_axes(graphs: tuple[Path, Path]) -> None:
    fp32, _ = graphs
    siblings = sorted(path.name for path in fp32.parent.iterdir() if not path.name.startswith(".complete"))
    assert siblings == ["model.int8.onnx", "model.onnx"]  # no external data, no temp folders left
    model = onnx.load(str(fp32), load_external_data=False)
    inputs = {
        i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input
    }
    assert inputs == {name: ["batch", "sequence"] for name in MODEL_INPUTS}
    assert [o.name for o in model.graph.output] == ["logits"]
    logits_shape = [d.dim_param or d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    assert logits_shape == ["batch", 3]


def test_parity_passes_on_varied_lengths(finetuned_dir: Path, bundle: Path) -> None:
    report = check_parity(finetuned_dir, bundle, VARIED_TEXTS * 3)
    assert report.passed
    assert report.predictions_match
    assert report.n_texts == len(VARIED_TEXTS) * 3
    assert 0.0 <= report.max_abs_diff < PARITY_TOLERANCE


def test_batch_1_and_batch_5_at_different_sequence_lengths(
    finetuned_dir: Path, graphs: tuple[Path, Path]
) -> None:
    model = AutoModelForSequenceClassification.from_pretrained(finetuned_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(finetuned_dir)
    session = open_session(graphs[0])
    shapes = []
    for texts in (VARIED_TEXTS[:1], VARIED_TEXTS[1:6]):
        encoded = tokenizer(texts, padding=True, return_tensors="np")
        feeds = {name: encoded[name].astype(np.int64) for name in MODEL_INPUTS}
        onnx_logits = session.run(["logits"], feeds)[0]
        with torch.inference_mode():
            torch_logits = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.numpy()
        np.testing.assert_allclose(onnx_logits, torch_logits, atol=PARITY_TOLERANCE)
        shapes.append(feeds["input_ids"].shape)
    assert shapes[0][0] == 1 and shapes[1][0] == 5
    assert shapes[0][1] != shapes[1][1]


def test_parity_fails_against_a_different_model(other_finetuned_dir: Path, bundle: Path) -> None:
    report = check_parity(other_finetuned_dir, bundle, VARIED_TEXTS)
    assert not report.passed
    assert report.n_texts == len(VARIED_TEXTS)
    assert np.isfinite(report.max_abs_diff)
    assert report.max_abs_diff > 1e-3


def test_parity_needs_texts(finetuned_dir: Path, bundle: Path) -> None:
    with pytest.raises(ValueError, match="at least one text"):
        check_parity(finetuned_dir, bundle, [])


def test_bundle_json_describes_the_exported_graph(bundle: Path) -> None:
    spec = read_spec(bundle)
    assert spec.labels == ("billing", "shipping", "technical")
    assert spec.model_inputs == MODEL_INPUTS  # the tiny BERT takes token_type_ids
    assert (spec.max_length, spec.truncation_side, spec.model_version) == (64, "right", "test-model-1")
    assert json.loads((bundle / "labels.json").read_text()) == {
        "0": "billing",
        "1": "shipping",
        "2": "technical",
    }


def test_a_max_length_beyond_the_model_positions_is_refused(
    finetuned_dir: Path, graphs: tuple[Path, Path], tmp_path: Path
) -> None:
    shutil.copy(graphs[0], tmp_path / "model.onnx")
    with pytest.raises(ExportError, match="max_length 129 exceeds the model's 128 position embeddings"):
        write_serving_files(
            finetuned_dir, tmp_path, model_version="v", data_version="d", base_model="b", max_length=129
        )
    assert not (tmp_path / "bundle.json").exists()
