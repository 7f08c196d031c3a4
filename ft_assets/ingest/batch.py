"""Reading a data folder into one frame: every record of every file, the per-file accounting, and the
data version, hashed from exactly the bytes that were parsed, in the same pass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ft_assets.ingest.discovery import Skipped, data_version, digest, scan
from ft_assets.ingest.readers import ReadOptions, read_bytes

COLUMNS = ["text", "label", "source_file", "source_line", "ingest_error"]


@dataclass(frozen=True)
class FileReport:
    """How one file's lines were used: lines = records + blank + joined (continuation lines)."""

    name: str
    lines: int
    records: int
    blank: int
    joined: int
    unreadable: int
    note: str


@dataclass(frozen=True, eq=False)
class Batch:
    frame: pd.DataFrame
    version: str
    files: tuple[FileReport, ...]
    skipped: tuple[Skipped, ...]


def read_folder(root: Path, options: ReadOptions) -> Batch:
    folder = scan(root)
    columns: dict[str, list] = {column: [] for column in COLUMNS}
    digests, reports = {}, []
    for file in folder.files:
        data = file.path.read_bytes()
        digests[file.name] = digest(data)
        records = read_bytes(file.name, data, options)
        columns["text"] += records.text
        columns["label"] += records.label
        columns["source_file"] += [file.name] * len(records.line)
        columns["source_line"] += records.line
        columns["ingest_error"] += records.error
        unreadable = sum(error is not None for error in records.error)
        reports.append(
            FileReport(
                file.name,
                records.lines,
                len(records.line),
                records.blank,
                records.joined,
                unreadable,
                records.note,
            )
        )
    frame = pd.DataFrame(columns, columns=COLUMNS).astype({"source_line": "int64"})
    return Batch(frame, data_version(digests), tuple(reports), folder.skipped)
