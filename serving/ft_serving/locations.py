"""Where artifacts live: the one place that reads ``FT_ARTIFACTS_DIR``, shared with the Dagster side."""

from __future__ import annotations

import os
from pathlib import Path

ARTIFACTS_DIR_ENV = "FT_ARTIFACTS_DIR"


def artifacts_dir() -> str:
    return os.environ.get(ARTIFACTS_DIR_ENV, "artifacts")


def production_dir() -> Path:
    """The production bundle's folder, as the pointer names it (the CLI's default model).

    On an object-store root the bundle is first synced into the local cache, verified (ft_serving.sync).
    """
    from ft_serving.sync import production_bundle  # imports this module: import when called

    return production_bundle()
