"""Artifact roots laid out as the registry of ft_serving.production, for the ft-serve tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ft_serving.checksums import digest_folder
from ft_serving.local_writes import write_bytes
from ft_serving.production import POINTER_PATH, ProductionPointer, bundle_path

from tests.serving.bundle_factory import write_test_bundle


def add_to_registry(root: Path, model_dir: Path, graphs: tuple[Path, Path], model_version: str) -> Path:
    """registry/<model_version>/: a bundle of ``model_dir`` whose report names ``model_version``."""
    return write_test_bundle(
        root / bundle_path(model_version), model_dir, *graphs, model_version=model_version
    )


def promote(root: Path, model_version: str) -> None:
    """Switch production to a registry bundle in one atomic rename, as the promotion gate does."""
    folder = root / bundle_path(model_version)
    pointer = ProductionPointer(
        model_version,
        bundle_path(model_version),
        datetime.now(UTC).isoformat(timespec="seconds"),
        files=digest_folder(folder),
    )
    write_bytes(root / POINTER_PATH, pointer.to_json())  # the atomic write the registry uses
