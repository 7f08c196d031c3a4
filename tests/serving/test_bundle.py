from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from ft_serving.bundle import BundleError, load_bundle


def _remove(name: str) -> Callable[[Path], None]:
    return lambda bundle: (bundle / name).unlink()


def _write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def apply(bundle: Path) -> None:
        path = bundle / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return apply


def _edit_json(name: str, **changes: object) -> Callable[[Path], None]:
    """Set (or, with None, remove) top-level keys of a JSON file in the bundle."""

    def apply(bundle: Path) -> None:
        data = json.loads((bundle / name).read_text())
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        (bundle / name).write_text(json.dumps(data))

    return apply


def _serve_at(max_length: int) -> Callable[[Path], None]:
    """A bundle whose spec and evaluation both say ``max_length``: only the graph or tokenizer can object."""

    def apply(bundle: Path) -> None:
        _edit_json("bundle.json", max_length=max_length)(bundle)
        _edit_json("report.json", max_length=max_length)(bundle)

    return apply


def _four_labels(bundle: Path) -> None:
    _edit_json("bundle.json", labels=["a", "b", "c", "d"])(bundle)
    _write("labels.json", json.dumps({"0": "a", "1": "b", "2": "c", "3": "d"}))(bundle)


def _truncate_model(bundle: Path) -> None:
    data = (bundle / "model.onnx").read_bytes()
    (bundle / "model.onnx").write_bytes(data[: len(data) // 2])


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing model": (_remove("model.onnx"), "is missing model.onnx"),
    "missing tokenizer": (_remove("tokenizer.json"), "is missing tokenizer.json"),
    "missing labels": (_remove("labels.json"), "is missing labels.json"),
    "missing spec": (_remove("bundle.json"), "is missing bundle.json"),
    "labels too many": (
        _write("labels.json", json.dumps({"0": "a", "1": "b", "2": "c", "3": "d"})),
        "labels.json lists ['a', 'b', 'c', 'd'] but bundle.json lists ['billing', 'shipping', 'technical']",
    ),
    "labels renamed": (
        _write("labels.json", json.dumps({"0": "billing", "1": "technical", "2": "shipping"})),
        "labels.json lists ['billing', 'technical', 'shipping'] but bundle.json lists",
    ),
    "labels and graph disagree": (_four_labels, "labels.json has 4 labels but model.onnx outputs logits"),
    "labels id gap": (
        _write("labels.json", json.dumps({"0": "a", "2": "b", "3": "c"})),
        "ids must be exactly 0..2",
    ),
    "labels duplicate": (
        _write("labels.json", json.dumps({"0": "a", "1": "a", "2": "c"})),
        "unique non-empty",
    ),
    "labels not json": (_write("labels.json", "{0: billing"), "labels.json is not valid JSON"),
    "labels a list": (_write("labels.json", '["a", "b", "c"]'), "labels.json must hold a JSON object"),
    "model garbage": (
        _write("model.onnx", b"\x00not an onnx graph\xff" * 10),
        "model.onnx is not a loadable ONNX model",
    ),
    "model truncated": (_truncate_model, "model.onnx is not a loadable ONNX model"),
    "tokenizer corrupt": (
        _write("tokenizer.json", '{"version": "1.0", "model": 42}'),
        "tokenizer.json failed to load",
    ),
    "tokenizer not json": (_write("tokenizer.json", b"\x89PNG\r\n"), "tokenizer.json failed to load"),
    "report corrupt": (_write("report.json", "{"), "report.json is not valid JSON"),
    "report of another model": (
        _edit_json("report.json", model_version="other-model"),
        "report.json is the evaluation of model other-model, but bundle.json is model test-model-1",
    ),
    "report at another length": (
        _edit_json("report.json", max_length=128),
        "report.json evaluated texts cut at 128 tokens, but bundle.json serves max_length 64",
    ),
    "spec not json": (_write("bundle.json", "{max_length: 64"), "bundle.json is not valid JSON"),
    "spec a list": (_write("bundle.json", "[]"), "bundle.json must hold a JSON object"),
    "spec missing max_length": (
        _edit_json("bundle.json", max_length=None),
        "missing field(s) ['max_length']",
    ),
    "spec unknown field": (_edit_json("bundle.json", max_len=64), "unknown field(s) ['max_len']"),
    "spec max_length text": (
        _edit_json("bundle.json", max_length="64"),
        "max_length must be a positive integer",
    ),
    "spec max_length zero": (
        _edit_json("bundle.json", max_length=0),
        "max_length must be a positive integer",
    ),
    "spec max_length no room": (_serve_at(2), "leaves no room for text"),
    "spec max_length beyond positions": (
        _serve_at(256),
        "model.onnx failed a probe inference at bundle.json max_length 256",
    ),
    "spec truncation side": (
        _edit_json("bundle.json", truncation_side="middle"),
        "truncation_side must be 'right' or 'left', got 'middle'",
    ),
    "spec inputs unknown": (
        _edit_json("bundle.json", model_inputs=["input_ids", "position_ids"]),
        "bundle.json: model_inputs must be",
    ),
    "spec inputs not the graph's": (
        _edit_json("bundle.json", model_inputs=["input_ids", "attention_mask"]),
        "model.onnx takes inputs ['input_ids', 'attention_mask', 'token_type_ids'] but bundle.json lists",
    ),
    "spec file outside the bundle": (
        _edit_json("bundle.json", files={"model": "../model.onnx"}),
        "files.model must be a plain file name",
    ),
    "spec newer format": (_edit_json("bundle.json", format_version=2), "format_version 2 unsupported"),
    "spec no version": (_edit_json("bundle.json", model_version=""), "model_version must be a non-empty"),
    "tokenizer_config max length 2": (
        _edit_json("tokenizer_config.json", model_max_length=2),
        "tokenizer_config.json: model_max_length 2 is below the max_length 64 of bundle.json",
    ),
    "tokenizer_config max length text": (
        _edit_json("tokenizer_config.json", model_max_length="lots"),
        "tokenizer_config.json: model_max_length must be a number",
    ),
    "tokenizer_config padding middle": (
        _edit_json("tokenizer_config.json", padding_side="middle"),
        "tokenizer_config.json: padding_side must be 'right' or 'left', got 'middle'",
    ),
    "tokenizer_config truncates left": (
        _edit_json("tokenizer_config.json", truncation_side="left"),
        "tokenizer_config.json: truncation_side 'left' contradicts bundle.json truncation_side 'right'",
    ),
    "tokenizer_config not json": (
        _write("tokenizer_config.json", "{"),
        "tokenizer_config.json is not valid JSON",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_bundle_raises_one_clear_line(case: str, bundle_copy: Path) -> None:
    breakage, expected = CASES[case]
    breakage(bundle_copy)
    with pytest.raises(BundleError) as caught:
        load_bundle(bundle_copy)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)


def test_missing_int8_matters_only_when_asked_for(bundle_copy: Path) -> None:
    (bundle_copy / "model.int8.onnx").unlink()
    assert load_bundle(bundle_copy).labels == ("billing", "shipping", "technical")
    with pytest.raises(BundleError, match=r"is missing model\.int8\.onnx"):
        load_bundle(bundle_copy, int8=True)


def test_missing_directory_and_optional_files(bundle_copy: Path, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="bundle directory not found"):
        load_bundle(tmp_path / "nowhere")
    for optional in ("report.json", "MODEL_CARD.md", "tokenizer_config.json"):
        (bundle_copy / optional).unlink()
    bundle = load_bundle(bundle_copy)
    assert (bundle.model_version, bundle.max_length) == ("test-model-1", 64)


def test_the_spec_names_the_files(bundle_copy: Path) -> None:
    (bundle_copy / "model.onnx").rename(bundle_copy / "weights.onnx")
    _edit_json("bundle.json", files={"model": "weights.onnx"})(bundle_copy)
    assert load_bundle(bundle_copy).spec.files.model == "weights.onnx"


def test_bad_arguments_are_value_errors_not_bundle_errors(bundle_dir: Path) -> None:
    with pytest.raises(ValueError, match="threads") as caught:
        load_bundle(bundle_dir, threads=0)
    assert not isinstance(caught.value, BundleError)
