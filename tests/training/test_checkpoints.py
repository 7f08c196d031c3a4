"""Choosing a verified checkpoint to resume from: checksums and loadable files, or the one before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ft_assets.training.checkpoints import (
    MANIFEST_FILE,
    checkpoint_step,
    choose_resume_checkpoint,
    drop_checkpoints,
    verify_checkpoint,
    write_manifest,
)


class NotATensor:
    """Any object a pickle could smuggle in; weights_only loading must refuse it."""


def _checkpoint(root: Path, step: int, manifest: bool = True) -> Path:
    """A checkpoint with the files the Trainer writes: weights, optimizer state, trainer state."""
    path = root / f"checkpoint-{step}"
    path.mkdir(parents=True)
    torch.manual_seed(step)
    layer = torch.nn.Linear(8, 3)
    save_file({k: v.contiguous() for k, v in layer.state_dict().items()}, str(path / "model.safetensors"))
    optimizer = torch.optim.AdamW(layer.parameters())
    layer(torch.ones(1, 8)).sum().backward()
    optimizer.step()
    torch.save(optimizer.state_dict(), path / "optimizer.pt")
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    if manifest:
        write_manifest(path)
    return path


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # inside the last tensor: the file still parses, the numbers changed
    path.write_bytes(bytes(data))


def test_no_directory_or_no_checkpoint_means_a_fresh_start(tmp_path):
    assert choose_resume_checkpoint(tmp_path / "absent").checkpoint is None
    (tmp_path / "runs").mkdir()
    decision = choose_resume_checkpoint(tmp_path)
    assert (decision.checkpoint, decision.message) == (None, "no checkpoint: starting fresh")


def test_the_newest_verified_checkpoint_wins_by_step_not_by_name(tmp_path):
    _checkpoint(tmp_path, 9)
    newest = _checkpoint(tmp_path, 12)
    _checkpoint(tmp_path, 100, manifest=False)  # killed while saving: no manifest yet
    (tmp_path / "checkpoint-200-tmp").mkdir()
    decision = choose_resume_checkpoint(tmp_path)
    assert (decision.checkpoint, decision.step) == (newest, 12)
    assert decision.message == (
        f"checkpoint-100 is unusable (no {MANIFEST_FILE}: the save did not finish); "
        "resuming from checkpoint checkpoint-12 at step 12"
    )


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda c: _truncate(c / "model.safetensors"), "model.safetensors: checksum mismatch"),
        (lambda c: _flip_a_bit(c / "model.safetensors"), "model.safetensors: checksum mismatch"),
        (lambda c: (c / "optimizer.pt").write_bytes(b"garbage"), "optimizer.pt: checksum mismatch"),
        (lambda c: (c / "model.safetensors").unlink(), "model.safetensors: missing"),
        (lambda c: (c / "trainer_state.json").write_text("{}"), "trainer_state.json: checksum mismatch"),
    ],
)
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage, problem):
    previous = _checkpoint(tmp_path, 6)
    damage(_checkpoint(tmp_path, 12))
    decision = choose_resume_checkpoint(tmp_path)
    assert decision.checkpoint == previous
    assert decision.rejected == (("checkpoint-12", problem),)
    assert decision.message.endswith("resuming from checkpoint checkpoint-6 at step 6")


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda c: _truncate(c / "model.safetensors"), "model.safetensors does not load"),
        (lambda c: (c / "optimizer.pt").write_bytes(b"garbage"), "optimizer.pt does not load"),
        (lambda c: torch.save({"state": NotATensor()}, c / "optimizer.pt"), "optimizer.pt does not load"),
        (lambda c: (c / "trainer_state.json").write_text("[]"), "trainer_state.json has no global_step"),
    ],
)
def test_files_that_do_not_load_are_refused_even_with_a_matching_manifest(tmp_path, damage, problem):
    checkpoint = _checkpoint(tmp_path, 6, manifest=False)
    damage(checkpoint)
    write_manifest(checkpoint)  # saved broken: the checksums match, the content does not load
    assert verify_checkpoint(checkpoint).startswith(problem)


def test_when_every_checkpoint_is_damaged_training_starts_fresh_and_says_why(tmp_path):
    _truncate(_checkpoint(tmp_path, 6) / "model.safetensors")
    (_checkpoint(tmp_path, 12) / MANIFEST_FILE).write_text("{")
    decision = choose_resume_checkpoint(tmp_path)
    assert (decision.checkpoint, decision.step) == (None, None)
    assert [name for name, _ in decision.rejected] == ["checkpoint-12", "checkpoint-6"]
    assert decision.message.endswith("starting fresh")
    assert f"checkpoint-12 is unusable ({MANIFEST_FILE} is unreadable" in decision.message


def test_step_falls_back_to_the_directory_name(tmp_path):
    checkpoint = _checkpoint(tmp_path, 42)
    (checkpoint / "trainer_state.json").unlink()
    assert checkpoint_step(checkpoint) == 42


def test_checkpoints_dropped_by_a_process_killed_part_way_are_all_gone_for_the_next_run(
    tmp_path, monkeypatch
):
    """Killed while deleting, an in-place delete left the last checkpoint without the best one: the next
    run of that training key resumed it, finished, and published the last weights under keep_model=best."""
    checkpoints = tmp_path / "checkpoints" / "key"
    for step in (6, 24):
        (checkpoints / f"checkpoint-{step}").mkdir(parents=True)
        (checkpoints / f"checkpoint-{step}" / "model.safetensors").write_bytes(b"weights")
    rmtree = shutil.rmtree

    def killed_after_one(path, *args, **kwargs):
        rmtree(sorted(Path(path).iterdir())[0])
        raise KeyboardInterrupt("killed while deleting")

    monkeypatch.setattr(shutil, "rmtree", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        drop_checkpoints(checkpoints)
    monkeypatch.undo()
    assert not checkpoints.exists()
    assert choose_resume_checkpoint(checkpoints).checkpoint is None
