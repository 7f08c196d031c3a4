"""bundle.json: a typed spec that round-trips and refuses anything it does not understand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ft_serving.spec import BundleError, BundleFiles, BundleSpec, read_spec, write_spec

SPEC = BundleSpec(
    model_version="m1",
    data_version="d1",
    base_model="minilm",
    labels=("billing", "shipping"),
    max_length=128,
    model_inputs=("input_ids", "attention_mask", "token_type_ids"),
)


def test_round_trip_through_the_file(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC)
    assert read_spec(tmp_path) == SPEC
    on_disk = json.loads((tmp_path / "bundle.json").read_text())
    assert on_disk["max_length"] == 128 and on_disk["truncation_side"] == "right"
    assert on_disk["files"]["model"] == "model.onnx" and on_disk["format_version"] == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"labels": ["only"]}, "labels must be two or more unique"),
        ({"labels": ["a", "a"]}, "labels must be two or more unique"),
        ({"labels": "ab"}, "labels must be a list"),
        ({"max_length": True}, "max_length must be a positive integer"),
        ({"max_length": 12.0}, "max_length must be a positive integer"),
        ({"model_inputs": ["attention_mask", "input_ids"]}, "model_inputs must be"),
        ({"model_inputs": ["input_ids"]}, "model_inputs must be"),
        ({"model_inputs": [["input_ids"], "attention_mask"]}, "model_inputs must be"),
        ({"model_inputs": [{"name": "input_ids"}, "attention_mask"]}, "model_inputs must be"),
        ({"base_model": None}, "base_model must be a non-empty string"),
        ({"files": {"labels": ".."}}, "files.labels must be a plain file name"),
        ({"files": {"weights": "w.onnx"}}, "bundle.json files: unknown field(s) ['weights']"),
        ({"files": "model.onnx"}, "files must be an object"),
    ],
)
def test_bad_values_are_bundle_errors(change: dict[str, object], expected: str) -> None:
    with pytest.raises(BundleError) as caught:
        BundleSpec.from_json({**SPEC.to_json(), **change})
    assert expected in str(caught.value)
    assert str(caught.value).startswith("bundle.json")


def test_files_default_to_the_documented_names() -> None:
    assert BundleFiles().model == "model.onnx"
    assert BundleSpec.from_json({k: v for k, v in SPEC.to_json().items() if k != "files"}) == SPEC
