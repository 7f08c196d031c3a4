"""save_model_dir: a complete safetensors model folder, never mixed with an older one."""

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


def test_writes_into_a_fresh_folder_and_refuses_a_used_one(tmp_path):
    # Atomic publishing is ArtifactStore.write_dir's job; here a leftover must not mix into a new model.
    target = tmp_path / "model"
    save_model_dir(_Saves({"model.safetensors": b"v1"}), _Saves({"tokenizer.json": b"t"}), target)
    assert _contents(target) == {"model.safetensors": b"v1", "tokenizer.json": b"t"}
    with pytest.raises(FileExistsError, match="not empty"):
        save_model_dir(_Saves({"model.safetensors": b"v2"}), _Saves({}), target)
    assert _contents(target) == {"model.safetensors": b"v1", "tokenizer.json": b"t"}


def test_weights_must_be_safetensors(tmp_path):
    with pytest.raises(RuntimeError, match=r"model\.safetensors"):
        save_model_dir(_Saves({"pytorch_model.bin": b"pickle"}), _Saves({}), tmp_path / "model")
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["pytorch_model.bin"]
