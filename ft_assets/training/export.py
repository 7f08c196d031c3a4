"""Writing the trained model as a self-contained Hugging Face directory, all or nothing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from transformers import PreTrainedModel, PreTrainedTokenizerBase

WEIGHTS_FILE = "model.safetensors"


def save_model_dir(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, output_dir: Path) -> Path:
    """Save weights (safetensors), config (with id2label) and tokenizer to ``output_dir``.

    Everything is written into a sibling temp dir first and renamed into place, so a crash never
    leaves a half-written model where readers expect a complete one. A previous model at
    ``output_dir`` is moved aside and deleted only after the new one is in place.
    """
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.tmp-", dir=output_dir.parent))
    try:
        # transformers 5 always serialises weights as safetensors; checked below rather than trusted.
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if not (staging / WEIGHTS_FILE).is_file():
            raise RuntimeError(f"save_pretrained wrote no {WEIGHTS_FILE} in {staging}")
        _swap_into_place(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output_dir


def _swap_into_place(staging: Path, output_dir: Path) -> None:
    # rename() cannot replace a non-empty directory, so the old one steps aside first.
    previous = None
    if output_dir.exists():
        previous = output_dir.with_name(f".{output_dir.name}.old-{staging.name.rsplit('-', 1)[-1]}")
        output_dir.rename(previous)
    try:
        staging.rename(output_dir)
    except BaseException:
        if previous is not None:
            previous.rename(output_dir)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
