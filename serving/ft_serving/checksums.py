"""SHA-256 manifests of a folder's files: what a bundle or a checkpoint held when it was written."""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def digest_folder(folder: Path, *, exclude: frozenset[str] = frozenset()) -> dict[str, str]:
    """``{relative posix path: sha256}`` for every file under ``folder`` (sorted, recursive)."""
    folder = Path(folder)
    return {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).as_posix() not in exclude
    }


def mismatches(folder: Path, expected: dict[str, str]) -> list[str]:
    """One line per file of ``expected`` that is missing under ``folder`` or has other bytes."""
    problems = []
    for name, want in sorted(expected.items()):
        path = Path(folder) / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != want:
            problems.append(f"{name}: checksum mismatch")
    return problems
