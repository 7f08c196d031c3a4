"""Choosing the checkpoint to resume from."""

from __future__ import annotations

import json
from pathlib import Path

from ft_assets.training.checkpoints import checkpoint_step, find_resume_checkpoint


def _checkpoint(root: Path, step: int, complete: bool = True) -> Path:
    path = root / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"weights")
    if complete:
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def test_no_directory_or_no_checkpoint_means_a_fresh_start(tmp_path):
    assert find_resume_checkpoint(tmp_path / "absent") is None
    (tmp_path / "runs").mkdir()
    assert find_resume_checkpoint(tmp_path) is None


def test_newest_complete_checkpoint_wins_by_step_not_by_name(tmp_path):
    _checkpoint(tmp_path, 9)
    newest = _checkpoint(tmp_path, 12)
    _checkpoint(tmp_path, 100, complete=False)  # killed while saving: no trainer state yet
    (tmp_path / "checkpoint-200-tmp").mkdir()
    assert find_resume_checkpoint(tmp_path) == newest
    assert checkpoint_step(newest) == 12


def test_step_falls_back_to_the_directory_name(tmp_path):
    assert checkpoint_step(_checkpoint(tmp_path, 42, complete=False)) == 42
