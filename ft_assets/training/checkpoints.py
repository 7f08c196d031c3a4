"""Finding the checkpoint to resume from, and the step it was taken at."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

# The Trainer writes this file last when it saves a checkpoint, so its presence marks a complete one.
TRAINER_STATE_FILE = "trainer_state.json"
_CHECKPOINT_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def find_resume_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest complete ``checkpoint-N`` under ``checkpoint_dir``, or None for a fresh start.

    A process killed while saving leaves a checkpoint without its trainer state; that one is
    skipped for the previous complete checkpoint (the Trainer overwrites it when it gets there).
    The caller keys ``checkpoint_dir`` by data version, config and base model, so whatever is
    found here belongs to this exact run and is safe to continue.
    """
    checkpoint_dir = Path(checkpoint_dir)
    if not checkpoint_dir.is_dir():
        return None
    candidates = sorted(
        (int(match.group(1)), path)
        for path in checkpoint_dir.iterdir()
        if path.is_dir() and (match := _CHECKPOINT_NAME.match(path.name))
    )
    for _, path in reversed(candidates):
        if _read_state(path) is not None:
            return path
    return None


def checkpoint_step(checkpoint: Path) -> int:
    """Global step of a checkpoint, from its trainer state (the directory name as a fallback)."""
    state = _read_state(checkpoint)
    if state is not None:
        return int(state["global_step"])
    match = _CHECKPOINT_NAME.match(checkpoint.name)
    if match is None:
        raise ValueError(f"cannot tell the step of checkpoint {checkpoint}")
    return int(match.group(1))


def _read_state(checkpoint: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((checkpoint / TRAINER_STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and "global_step" in state else None
