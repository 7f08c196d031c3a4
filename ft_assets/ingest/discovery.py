"""Finding the batch files under the data folder, what is skipped there and why, and the data version."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")


class IngestError(ValueError):
    """A folder or file the pipeline cannot read at all."""


@dataclass(frozen=True)
class DataFile:
    name: str  # path relative to the data folder, as rows and metadata name it
    path: Path  # the file to read: the link's target for a symbolic link inside the folder


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.name}: {self.reason}"


@dataclass(frozen=True)
class Folder:
    root: Path
    files: tuple[DataFile, ...]
    skipped: tuple[Skipped, ...]


def scan(root: Path) -> Folder:
    """Every supported file under `root`, never one outside it: links are resolved and refused when
    they lead out of the folder. Whatever is not read is listed in `skipped` with the reason; a folder
    with nothing to read is an error that lists them."""
    if not root.is_dir():
        raise IngestError(f"{root}: data folder does not exist (set FT_DATA_DIR)")
    base = root.resolve()
    files: list[DataFile] = []
    skipped: list[Skipped] = []
    targets: dict[Path, str] = {}
    for folder, subfolders, names in os.walk(root):  # does not descend into linked folders
        here = Path(folder)
        for name in sorted(subfolders):
            reason = "hidden folder" if name.startswith(".") else None
            if (here / name).is_symlink():
                reason = "symbolic link to a folder; not followed"
            if reason:
                subfolders.remove(name)
                skipped.append(Skipped((here / name).relative_to(root).as_posix() + "/", reason))
        subfolders.sort()
        for name in sorted(names):
            path = here / name
            relative = path.relative_to(root).as_posix()
            target = path.resolve()
            reason = _refusal(path, target, base)
            if reason is None and target in targets:
                reason = f"the same file as {targets[target]}"
            if reason is not None:
                skipped.append(Skipped(relative, reason))
                continue
            targets[target] = relative
            files.append(DataFile(relative, target))
    if not files:
        listed = "".join(f"; {s}" for s in skipped)
        raise IngestError(f"{root}: no {', '.join(SUPPORTED_SUFFIXES)} files found{listed}")
    return Folder(root, tuple(files), tuple(skipped))


def _refusal(path: Path, target: Path, base: Path) -> str | None:
    if path.is_symlink() and not target.is_relative_to(base):
        return f"symbolic link to {target}, outside the data folder; refused"
    if path.name.startswith("."):
        return "hidden file"
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kind = f"file type {path.suffix!r}" if path.suffix else "file without an extension"
        return f"unsupported {kind}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
    if not target.is_file():
        return "not a regular file" if target.exists() else "broken symbolic link"
    return None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_version(digests: Mapping[str, str]) -> str:
    """Hash of every read file's name and bytes: a new, changed, renamed or removed file changes it."""
    combined = hashlib.sha256()
    for name in sorted(digests):
        combined.update(name.encode())
        combined.update(digests[name].encode())
    return combined.hexdigest()[:16]


def folder_version(folder: Folder) -> str:
    """The data version `raw_examples` would record for the folder as it is now."""
    return data_version({f.name: digest(f.path.read_bytes()) for f in folder.files})
