"""Readers for .csv, .tsv, .jsonl and .parquet batches.

Every physical record becomes a row with its file and line. A record that cannot be parsed (bad JSON,
wrong field count, undecodable bytes) still becomes a row, carrying `ingest_error`, so validation can
quarantine it with a reason instead of losing it. Problems that make a whole file unreadable (empty,
missing columns, wrong delimiter) raise `IngestError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")
COLUMNS = ["text", "label", "source_file", "source_line", "ingest_error"]


class IngestError(ValueError):
    """A file the pipeline cannot read at all."""


@dataclass(frozen=True)
class ColumnMapping:
    text: str = "text"
    label: str = "label"


def _row(text: Any, label: Any, source: str, line: int, error: str | None = None) -> dict[str, Any]:
    return {
        "text": None if text is None else str(text),
        "label": None if label is None else str(label),
        "source_file": source,
        "source_line": line,
        "ingest_error": error,
    }


def _decode_lines(path: Path, source: str) -> list[tuple[int, str | None, str | None]]:
    """(line number, text or None, error) per physical line; undecodable lines are reported, not lost."""
    raw = path.read_bytes()
    if not raw.strip():
        raise IngestError(f"{source}: line 1: file is empty")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    out: list[tuple[int, str | None, str | None]] = []
    for number, chunk in enumerate(raw.splitlines(), start=1):
        try:
            out.append((number, chunk.decode("utf-8"), None))
        except UnicodeDecodeError as exc:
            bad = chunk[exc.start : exc.start + 1].hex()
            out.append((number, None, f"invalid UTF-8 (byte 0x{bad} at column {exc.start + 1})"))
    return out


def _check_header(header: list[str], mapping: ColumnMapping, source: str, delimiter: str) -> None:
    missing = [c for c in (mapping.text, mapping.label) if c not in header]
    if not missing:
        return
    hint = ""
    for other, name in (("\t", "tab"), (",", "comma"), (";", "semicolon")):
        if other != delimiter and len(header) == 1 and other in header[0]:
            hint = f"; the header looks {name}-delimited, so the file's extension or delimiter is wrong"
    raise IngestError(
        f"{source}: line 1: missing column(s) {missing} (found {header}); "
        f"set the column mapping (text_column/label_column) to match{hint}"
    )


def read_delimited(path: Path, source: str, mapping: ColumnMapping, delimiter: str) -> list[dict[str, Any]]:
    lines = _decode_lines(path, source)
    header_line = next((item for item in lines if item[1] is None or item[1].strip()), None)
    if header_line is None or header_line[1] is None:
        raise IngestError(f"{source}: line 1: header is missing or not valid UTF-8")
    header = [h.strip() for h in next(csv.reader([header_line[1]], delimiter=delimiter))]
    _check_header(header, mapping, source, delimiter)
    text_idx, label_idx = header.index(mapping.text), header.index(mapping.label)
    rows: list[dict[str, Any]] = []
    good = [(n, t) for n, t, _ in lines if t is not None and n > header_line[0]]
    rows.extend(_row(None, None, source, n, err) for n, t, err in lines if t is None and n > header_line[0])
    # Quoted fields may span lines, so parse the decodable text as one stream and track line numbers.
    numbers = [n for n, _ in good]
    reader = csv.reader(io.StringIO("\n".join(t for _, t in good)), delimiter=delimiter)
    consumed = 0
    for record in reader:
        start = numbers[consumed] if consumed < len(numbers) else numbers[-1]
        consumed = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line is not a record
        if len(record) != len(header):
            rows.append(
                _row(
                    delimiter.join(record),
                    None,
                    source,
                    start,
                    f"expected {len(header)} fields, found {len(record)}",
                )
            )
            continue
        rows.append(_row(record[text_idx], record[label_idx], source, start))
    return sorted(rows, key=lambda r: r["source_line"])


def read_jsonl(path: Path, source: str, mapping: ColumnMapping) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, text, error in _decode_lines(path, source):
        if error is not None:
            rows.append(_row(None, None, source, number, error))
            continue
        assert text is not None
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            rows.append(_row(text, None, source, number, f"malformed JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(obj, dict):
            rows.append(_row(text, None, source, number, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        missing = [c for c in (mapping.text, mapping.label) if c not in obj]
        error = f"missing field(s) {missing}" if missing else None
        rows.append(_row(obj.get(mapping.text), obj.get(mapping.label), source, number, error))
    return rows


def read_parquet(path: Path, source: str, mapping: ColumnMapping) -> list[dict[str, Any]]:
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise IngestError(f"{source}: not a readable Parquet file: {exc}") from exc
    if table.num_rows == 0:
        raise IngestError(f"{source}: row 1: file is empty")
    _check_header(table.column_names, mapping, source, "")
    texts = table.column(mapping.text).to_pylist()
    labels = table.column(mapping.label).to_pylist()
    return [_row(t, lab, source, i) for i, (t, lab) in enumerate(zip(texts, labels, strict=True), start=1)]


def read_file(path: Path, source: str, mapping: ColumnMapping) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = read_delimited(path, source, mapping, ",")
    elif suffix == ".tsv":
        rows = read_delimited(path, source, mapping, "\t")
    elif suffix == ".jsonl":
        rows = read_jsonl(path, source, mapping)
    elif suffix == ".parquet":
        rows = read_parquet(path, source, mapping)
    else:
        raise IngestError(f"{source}: unsupported file type {suffix!r}; use one of {SUPPORTED_SUFFIXES}")
    if not rows:
        raise IngestError(f"{source}: line 1: file has a header but no records")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["source_line"] = frame["source_line"].astype("int64")
    return frame
