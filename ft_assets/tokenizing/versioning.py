"""Content hashes that name artifacts and tie them to the exact data they came from."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd


def frame_version(frame: pd.DataFrame, columns: list[str]) -> str:
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def combine(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
