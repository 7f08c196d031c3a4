"""The non-model files a serving bundle needs beside its ONNX graphs: tokenizer and label map."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ft_serving.bundle import LABELS_FILE

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def write_serving_files(model_dir: Path, out: Path, label_names: list[str]) -> None:
    """Copy the fine-tuned model's tokenizer files and write labels.json (id -> label) into `out`."""
    for name in TOKENIZER_FILES:
        if (model_dir / name).is_file():
            shutil.copy(model_dir / name, out / name)
    labels = {str(i): label for i, label in enumerate(label_names)}
    (out / LABELS_FILE).write_text(json.dumps(labels, indent=2))
