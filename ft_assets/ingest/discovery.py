"""Finding batch files and fingerprinting them into a data version."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ft_assets.ingest.readers import SUPPORTED_SUFFIXES, IngestError


def list_data_files(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        raise IngestError(f"{data_dir}: data folder does not exist (set FT_DATA_DIR)")
    files = sorted(
        p
        for p in data_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        raise IngestError(f"{data_dir}: no {', '.join(SUPPORTED_SUFFIXES)} files found")
    return files


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_version(data_dir: Path, files: list[Path] | None = None) -> str:
    """Hash of every batch's name and bytes: any new, changed or removed file changes it."""
    digest = hashlib.sha256()
    for path in files if files is not None else list_data_files(data_dir):
        digest.update(path.relative_to(data_dir).as_posix().encode())
        digest.update(file_digest(path).encode())
    return digest.hexdigest()[:16]
