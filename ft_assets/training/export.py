"""Writing the trained model as a self-contained Hugging Face directory."""

from __future__ import annotations

from pathlib import Path

from transformers import PreTrainedModel, PreTrainedTokenizerBase

WEIGHTS_FILE = "model.safetensors"


def save_model_dir(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, output_dir: Path) -> Path:
    """Save weights (safetensors), config (with id2label) and tokenizer into ``output_dir``.

    ``output_dir`` must be absent or empty. Publishing is the caller's business: the asset hands in a
    staging folder of ``ArtifactStore.write_dir``, the one place that makes artifact writes atomic.
    """
    output_dir = Path(output_dir)
    if output_dir.exists() and any(output_dir.iterdir()):
        raise FileExistsError(f"{output_dir} is not empty; the model goes into a fresh folder")
    output_dir.mkdir(parents=True, exist_ok=True)
    # transformers 5 always serialises weights as safetensors; checked rather than trusted.
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    if not (output_dir / WEIGHTS_FILE).is_file():
        raise RuntimeError(f"save_pretrained wrote no {WEIGHTS_FILE} in {output_dir}")
    return output_dir
