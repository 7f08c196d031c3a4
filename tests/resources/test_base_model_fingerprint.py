"""The base model's fingerprint names its exact weights: it keys checkpoints (resume) and the tokenized
dataset's version, so a base model changed in place must never pass for the one before."""

from __future__ import annotations

import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from ft_resources.base_model import BaseModelSource


def test_a_change_anywhere_in_the_weights_changes_the_fingerprint(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(tiny_model_dir, tmp_path / "base"))
    source = BaseModelSource(name_or_path=str(folder))
    before = source.fingerprint()
    assert BaseModelSource(name_or_path=str(folder)).fingerprint() == before  # stable
    weights = load_file(str(folder / "model.safetensors"))
    # The last tensor of the file (safetensors stores the embeddings first): same size, same architecture.
    last = sorted(weights)[-1]
    weights[last] = weights[last] + 0.5
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    assert source.fingerprint() != before
