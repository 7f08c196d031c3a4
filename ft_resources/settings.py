"""Environment-driven defaults shared by assets, resources and the CLI."""

from __future__ import annotations

import os

from ft_serving.locations import ARTIFACTS_DIR_ENV, artifacts_dir

__all__ = [
    "ARTIFACTS_DIR_ENV",
    "BASE_MODEL_ENV",
    "BUNDLED_MODEL",
    "DATA_DIR_ENV",
    "INBOX_DIR_ENV",
    "artifacts_dir",
    "base_model",
    "data_dir",
    "inbox_dir",
]

DATA_DIR_ENV = "FT_DATA_DIR"
BASE_MODEL_ENV = "FT_BASE_MODEL"
INBOX_DIR_ENV = "FT_INBOX_DIR"
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def data_dir() -> str:
    return os.environ.get(DATA_DIR_ENV, "data/raw")


def inbox_dir() -> str:
    return os.environ.get(INBOX_DIR_ENV, "data/inbox")


def base_model() -> str:
    return os.environ.get(BASE_MODEL_ENV, BUNDLED_MODEL)
