"""Environment-driven defaults shared by assets, resources and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "FT_DATA_DIR"
ARTIFACTS_DIR_ENV = "FT_ARTIFACTS_DIR"
BASE_MODEL_ENV = "FT_BASE_MODEL"
INBOX_DIR_ENV = "FT_INBOX_DIR"
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def data_dir() -> str:
    return os.environ.get(DATA_DIR_ENV, "data/raw")


def inbox_dir() -> str:
    return os.environ.get(INBOX_DIR_ENV, "data/inbox")


def artifacts_dir() -> str:
    return os.environ.get(ARTIFACTS_DIR_ENV, "artifacts")


def base_model() -> str:
    return os.environ.get(BASE_MODEL_ENV, BUNDLED_MODEL)


def production_dir() -> Path:
    """Local production bundle location (the CLI's default model)."""
    return Path(artifacts_dir()) / "production"
