"""Content hashes that name artifacts and tie them to the exact data they came from."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
from ft_serving.checksums import digest_folder


def frame_version(frame: pd.DataFrame, columns: list[str]) -> str:
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def combine(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def content_name(key: str, folder: Path) -> str:
    """A folder's name from what it was made from (``key``) and every byte it holds: other bytes get
    another name, so a published folder is never replaced (ArtifactStore.write_named_dir)."""
    return combine(key, digest_folder(folder))
