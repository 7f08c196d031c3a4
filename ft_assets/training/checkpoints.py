"""Verified checkpoints: which one to resume from, and the checksum manifest that makes that safe.

When the Trainer has saved a checkpoint, ``write_manifest`` records the SHA-256 of every file in it
(``ChecksumCallback`` calls it). A checkpoint is resumed only if its manifest is there, every file
still has those bytes, and the files load: the safetensors header and every tensor, the optimizer and
scheduler state through ``torch.load(weights_only=True)`` (never an unpickle of arbitrary objects),
and the trainer state JSON. Otherwise the previous checkpoint is tried, then a fresh start, and the
decision says which and why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from ft_serving import local_writes
from ft_serving.checksums import digest_folder, mismatches
from safetensors import safe_open
from transformers import TrainerState, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

TRAINER_STATE_FILE = "trainer_state.json"
MANIFEST_FILE = "checkpoint_manifest.json"
# Torch-serialised state the Trainer restores on resume; each must load as plain tensors and numbers.
TORCH_STATE_FILES = ("optimizer.pt", "scheduler.pt")
_CHECKPOINT_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


@dataclass(frozen=True)
class ResumeDecision:
    """The checkpoint to resume from (None: a fresh start) and every newer one that was refused.

    ``finished``: training had stopped at that checkpoint (early stopping, the last epoch or step, the time
    budget), so the run only has to end there, not train on.
    """

    checkpoint: Path | None
    step: int | None
    rejected: tuple[tuple[str, str], ...] = ()  # (checkpoint name, problem), newest first
    finished: bool = False

    @property
    def message(self) -> str:
        refused = "".join(f"{name} is unusable ({problem}); " for name, problem in self.rejected)
        if self.checkpoint is None:
            return f"{refused}starting fresh" if refused else "no checkpoint: starting fresh"
        resuming = f"{refused}resuming from checkpoint {self.checkpoint.name} at step {self.step}"
        if self.finished:
            return f"{resuming}; training had stopped there, so the run ends there without training further"
        return resuming


def write_manifest(checkpoint: Path) -> None:
    """Record what a just-saved checkpoint holds; written last, atomically, so it marks a complete one."""
    manifest = {"files": digest_folder(checkpoint, exclude=frozenset({MANIFEST_FILE}))}
    local_writes.write_bytes(checkpoint / MANIFEST_FILE, json.dumps(manifest, indent=2).encode())


def choose_resume_checkpoint(checkpoint_dir: Path) -> ResumeDecision:
    """The newest verified ``checkpoint-N`` under ``checkpoint_dir``, or a fresh start.

    The caller keys ``checkpoint_dir`` by data version, config and base model, so a checkpoint found
    here belongs to this exact run and is safe to continue.
    """
    checkpoint_dir = Path(checkpoint_dir)
    candidates = sorted(
        (int(match.group(1)), path)
        for path in (checkpoint_dir.iterdir() if checkpoint_dir.is_dir() else ())
        if path.is_dir() and (match := _CHECKPOINT_NAME.match(path.name))
    )
    rejected: list[tuple[str, str]] = []
    for _, path in reversed(candidates):
        problem = verify_checkpoint(path)
        if problem is None:
            return ResumeDecision(path, checkpoint_step(path), tuple(rejected), _training_stopped(path))
        rejected.append((path.name, problem))
    return ResumeDecision(None, None, tuple(rejected))


def drop_checkpoints(checkpoint_dir: Path) -> None:
    """Delete a run's checkpoints once its model is published: renamed aside in one step, then deleted
    (``local_writes.remove``). Deleted in place, a process killed part-way could leave the last
    checkpoint without the best one, and the next run of the same key would resume it as finished and
    publish the last weights where keep_model=best asked for the best."""
    local_writes.remove(checkpoint_dir)


def verify_checkpoint(checkpoint: Path) -> str | None:
    """None when ``checkpoint`` can be resumed, else the first problem found, in words."""
    try:
        manifest = json.loads((checkpoint / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        return f"no {MANIFEST_FILE}: the save did not finish"
    except (OSError, ValueError) as error:
        return f"{MANIFEST_FILE} is unreadable ({error})"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        return f"{MANIFEST_FILE} lists no files"
    if problems := mismatches(checkpoint, files):
        return "; ".join(problems)
    if _read_state(checkpoint) is None:
        return f"{TRAINER_STATE_FILE} has no global_step"
    for name in sorted(files):
        try:
            _load(checkpoint / name)
        except Exception as error:  # any failure to load means the Trainer could not resume either
            return f"{name} does not load ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
    return None


def saved_checkpoint(args: TrainingArguments, state: TrainerState) -> Path | None:
    """In an ``on_save`` callback: the checkpoint folder the Trainer has just written, on the process
    that writes files beside it (world rank 0); None elsewhere."""
    checkpoint = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
    return checkpoint if state.is_world_process_zero and checkpoint.is_dir() else None


def checkpoint_step(checkpoint: Path) -> int:
    """Global step of a checkpoint, from its trainer state (the directory name as a fallback)."""
    state = _read_state(checkpoint)
    if state is not None:
        return int(state["global_step"])
    match = _CHECKPOINT_NAME.match(checkpoint.name)
    if match is None:
        raise ValueError(f"cannot tell the step of checkpoint {checkpoint}")
    return int(match.group(1))


def _training_stopped(checkpoint: Path) -> bool:
    """Whether the Trainer had decided to stop when it saved ``checkpoint``. Its TrainerControl state is saved
    with the checkpoint but cleared when training starts again, so a resumed Trainer would train on."""
    state = _read_state(checkpoint) or {}
    control = state.get("stateful_callbacks", {}).get("TrainerControl", {})
    return isinstance(control, dict) and control.get("args", {}).get("should_training_stop") is True


def _load(path: Path) -> None:
    if path.suffix == ".safetensors":
        with safe_open(str(path), framework="pt") as weights:
            for key in weights.keys():  # noqa: SIM118 - safe_open has no __iter__
                weights.get_tensor(key)
    elif path.name in TORCH_STATE_FILES:
        torch.load(path, map_location="cpu", weights_only=True)


def _read_state(checkpoint: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((checkpoint / TRAINER_STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and "global_step" in state else None
