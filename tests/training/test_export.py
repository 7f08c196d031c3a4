"""save_model_dir: all-or-nothing replacement of the model directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ft_assets.training.export import save_model_dir


class _Saves:
    def __init__(self, files: dict[str, bytes], fail: bool = False) -> None:
        self.files = files
        self.fail = fail

    def save_pretrained(self, target: Path) -> None:
        for name, content in self.files.items():
            (Path(target) / name).write_bytes(content)
        if self.fail:
            raise OSError("disk full")


def _contents(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.iterdir()}


def test_replaces_a_previous_model_and_leaves_no_staging_dirs(tmp_path):
    target = tmp_path / "model"
    save_model_dir(_Saves({"model.safetensors": b"v1"}), _Saves({"tokenizer.json": b"t"}), target)
    save_model_dir(_Saves({"model.safetensors": b"v2", "config.json": b"{}"}), _Saves({}), target)
    assert _contents(target) == {"model.safetensors": b"v2", "config.json": b"{}"}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_failed_save_keeps_the_previous_model(tmp_path):
    target = tmp_path / "model"
    save_model_dir(_Saves({"model.safetensors": b"v1"}), _Saves({}), target)
    with pytest.raises(OSError, match="disk full"):
        save_model_dir(_Saves({"model.safetensors": b"half"}, fail=True), _Saves({}), target)
    assert _contents(target) == {"model.safetensors": b"v1"}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_weights_must_be_safetensors(tmp_path):
    with pytest.raises(RuntimeError, match=r"model\.safetensors"):
        save_model_dir(_Saves({"pytorch_model.bin": b"pickle"}), _Saves({}), tmp_path / "model")
    assert list(tmp_path.iterdir()) == []
