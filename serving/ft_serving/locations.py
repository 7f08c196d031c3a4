"""Where artifacts live: the one place that reads ``FT_ARTIFACTS_DIR``, shared with the Dagster side."""

from __future__ import annotations

import os
from pathlib import Path

ARTIFACTS_DIR_ENV = "FT_ARTIFACTS_DIR"


def artifacts_dir() -> str:
    return os.environ.get(ARTIFACTS_DIR_ENV, "artifacts")


def production_dir() -> Path:
    """Local production bundle location (the CLI's default model)."""
    return Path(artifacts_dir()) / "production"
