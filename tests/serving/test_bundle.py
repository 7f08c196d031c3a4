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


def _truncate_model(bundle: Path) -> None:
    data = (bundle / "model.onnx").read_bytes()
    (bundle / "model.onnx").write_bytes(data[: len(data) // 2])


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing model": (_remove("model.onnx"), "is missing model.onnx"),
    "missing tokenizer": (_remove("tokenizer.json"), "is missing tokenizer.json"),
    "missing labels": (_remove("labels.json"), "is missing labels.json"),
    "labels too many": (
        _write("labels.json", json.dumps({"0": "a", "1": "b", "2": "c", "3": "d"})),
        "labels.json has 4 labels but model.onnx outputs logits of shape (1, 3)",
    ),
    "labels too few": (_write("labels.json", json.dumps({"0": "a", "1": "b"})), "labels.json has 2 labels"),
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
    assert bundle.model_version is None


def test_bad_arguments_are_value_errors_not_bundle_errors(bundle_dir: Path) -> None:
    with pytest.raises(ValueError, match="threads") as caught:
        load_bundle(bundle_dir, threads=0)
    assert not isinstance(caught.value, BundleError)
    with pytest.raises(ValueError, match="no room for text"):
        load_bundle(bundle_dir, max_length=2)
