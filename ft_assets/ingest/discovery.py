"""Finding the batch files under the data folder, what is skipped there and why, and the data version."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # readers imports this module
    from ft_assets.ingest.readers import ReadOptions

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")

# The version of the code that turns a file's bytes and the read options into rows (ingest/readers.py,
# ingest/batch.py). It is part of raw_examples' data version: bump it whenever the same bytes read with the
# same options give other rows (a parser fix, a new default), so that new_data_sensor reads the folder again
# and the automation carries the change downstream. Kept here, not in readers.py, since readers imports
# this module.
READER_VERSION = "2"  # 2: a JSON field named twice, a lone surrogate, a multi-line record of the wrong width


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


def scan(
    root: Path,
    suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES,
    *,
    kind: str = "data folder",
    required: bool = True,
) -> Folder:
    """Every file under `root` with one of ``suffixes``, never one outside it: links are resolved and
    refused when they lead out of the folder (the ``kind`` of folder the reasons name). Whatever is not
    read is listed in `skipped` with the reason. A ``required`` folder that is missing or has nothing to
    read is an error that lists them; another is simply empty."""
    if not root.is_dir():
        if not required:
            return Folder(root, (), ())
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
            reason = _refusal(path, target, base, suffixes, kind)
            if reason is None and target in targets:
                reason = f"the same file as {targets[target]}"
            if reason is not None:
                skipped.append(Skipped(relative, reason))
                continue
            targets[target] = relative
            files.append(DataFile(relative, target))
    if not files and required:
        listed = "".join(f"; {s}" for s in skipped)
        raise IngestError(f"{root}: no {', '.join(suffixes)} files found{listed}")
    return Folder(root, tuple(files), tuple(skipped))


def _refusal(path: Path, target: Path, base: Path, suffixes: tuple[str, ...], kind: str) -> str | None:
    if path.is_symlink() and not target.is_relative_to(base):
        return f"symbolic link to {target}, outside the {kind}; refused"
    if path.name.startswith("."):
        return "hidden file"
    if path.suffix.lower() not in suffixes:
        kind = f"file type {path.suffix!r}" if path.suffix else "file without an extension"
        return f"unsupported {kind}; use one of {', '.join(suffixes)}"
    if not target.is_file():
        return "not a regular file" if target.exists() else "broken symbolic link"
    return None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_version(digests: Mapping[str, str]) -> str:
    """The files' version: a hash of every read file's name and bytes, so a new, changed, renamed or
    removed file changes it. `read_version` turns it into raw_examples' data version."""
    combined = hashlib.sha256()
    for name in sorted(digests):
        combined.update(name.encode())
        combined.update(digests[name].encode())
    return combined.hexdigest()[:16]


def read_version(files_version: str, options: ReadOptions) -> str:
    """raw_examples' data version: the files' version, every read option and READER_VERSION, so reading the
    same bytes another way (another column, encoding or TSV quoting, a fixed reader) is new data. Hashed
    as canonical JSON (sorted keys, no hash()), so equal inputs give equal versions in every process."""
    spec = {"files": files_version, "options": asdict(options), "reader": READER_VERSION}
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def folder_version(folder: Folder, options: ReadOptions | None = None) -> str:
    """The data version `raw_examples` would record for the folder as it is now, read with `options`
    (default: the readers' defaults)."""
    if options is None:
        from ft_assets.ingest.readers import ReadOptions  # readers imports this module

        options = ReadOptions()
    return read_version(data_version({f.name: digest(f.path.read_bytes()) for f in folder.files}), options)
