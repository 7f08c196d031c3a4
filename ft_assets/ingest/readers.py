"""Parsing one batch file's bytes into rows, one per record, each with its file and line.

Every record becomes a row. One that cannot be parsed (bad JSON, wrong field count, a quote left open,
undecodable bytes, a Parquet binary value that is not UTF-8) becomes a row carrying `ingest_error`, so
validation quarantines it with its line instead of losing it. A blank line is not a record, but a line
holding the delimiter is, however blank its fields (`\t` in a TSV): validation quarantines it. A quote
problem costs only its own line: a quoted field may span lines (CSV), but when the record it opens does
not close cleanly within `MAX_RECORD_LINES` lines, that one line is rejected and reading resumes on the
next. A record that closes cleanly with another field count than the header's is rejected whole, every
line it spans with it: those lines lie inside its quotes, so none of them is a record of its own. TSV is
split on tabs, with no quoting, unless asked. A JSON object that names a field twice, and a text or label
holding a lone surrogate (a JSON escape such as `\ud800`), are rows with an error too. Problems that make a
whole file unreadable (missing columns, wrong delimiter) raise `IngestError` naming the file and line.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from ft_serving import strict_json

from ft_assets.ingest.discovery import SUPPORTED_SUFFIXES, IngestError

MAX_RECORD_LINES = 100
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class ReadOptions:
    text: str = "text"
    label: str = "label"
    encoding: str = "utf-8"
    tsv_quoting: bool = False


@dataclass
class Records:
    """Column lists (cheaper than a dict per row on 200,000 rows) and how the file's lines were used."""

    text: list[str | None] = field(default_factory=list)
    label: list[str | None] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    error: list[str | None] = field(default_factory=list)
    lines: int = 0  # data lines (after the header), JSONL lines or Parquet rows
    blank: int = 0  # blank lines (whitespace and no delimiter): not records
    joined: int = 0  # extra lines taken by quoted fields that span lines
    note: str = ""

    def add(self, line: int, text: Any, label: Any, error: str | None = None) -> None:
        text, text_error = _cell(text, "text")
        label, label_error = _cell(label, "label")
        self.add_strings(line, text, label, error or text_error or label_error)

    def add_strings(self, line: int, text: str | None, label: str | None, error: str | None = None) -> None:
        self.text.append(text)
        self.label.append(label)
        self.line.append(line)
        self.error.append(error)


def _cell(value: Any, what: str) -> tuple[str | None, str | None]:
    """A value as read -> string, or None when absent (JSON null, NaN in Parquet)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if isinstance(value, list | dict):
        return json.dumps(value)[:200], f"{what} is a {type(value).__name__}, not a string or number"
    if isinstance(value, bytes | bytearray | memoryview):  # a Parquet binary column: str() would be b'...'
        raw = bytes(value)
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            byte = raw[exc.start : exc.start + 1].hex()
            return None, f"{what} is not valid UTF-8 (byte 0x{byte} at position {exc.start + 1})"
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a JSON escape such as \ud800: no UTF-8 file, Arrow or model takes it
        shown = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return shown, f"{what} is not valid Unicode (a lone surrogate at position {exc.start + 1})"
    return text, None


def read_bytes(name: str, data: bytes, options: ReadOptions) -> Records:
    suffix = name[name.rfind(".") :].lower()
    if suffix == ".parquet":
        return _parquet(name, data, options)
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(f"{name}: unsupported file type {suffix!r}; use one of {SUPPORTED_SUFFIXES}")
    _check_encoding(name, options.encoding)
    lines, encoding = _split_lines(name, data, options.encoding)
    options = ReadOptions(options.text, options.label, encoding, options.tsv_quoting)
    if not any(line.strip() for line in lines):
        return Records(lines=len(lines), blank=len(lines), note="empty file")
    if suffix == ".jsonl":
        return _jsonl(lines, options)
    quoting = suffix == ".csv" or options.tsv_quoting
    return _delimited(name, lines, options, "," if suffix == ".csv" else "\t", quoting)


def _split_lines(name: str, data: bytes, encoding: str) -> tuple[list[bytes], str]:
    """The physical lines (LF, CRLF or CR) and the encoding to decode them with."""
    if data.startswith(UTF16_BOMS):  # Excel's "Unicode text" export
        try:
            data, encoding = data.decode("utf-16").encode("utf-8"), "utf-8"
        except UnicodeError as exc:
            raise IngestError(f"{name}: line 1: starts with a UTF-16 mark but is not UTF-16: {exc}") from exc
    elif data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    # Split the bytes, not decoded text: str.splitlines also breaks on U+2028, form feeds and the like.
    return data.splitlines(), encoding


def _check_encoding(name: str, encoding: str) -> None:
    """Refuse an unknown or non-text codec once, naming the file, before any line is decoded with it."""
    try:
        # Not b"": decoding empty bytes skips the codec lookup. LookupError: an unknown name, or a bytes
        # codec such as rot13.
        b"a".decode(encoding)
    except LookupError as exc:
        raise IngestError(
            f"{name}: cannot decode with encoding {encoding!r} ({exc}); "
            "set the encoding to a text codec such as 'utf-8' or 'cp1252'"
        ) from exc
    except UnicodeError:
        pass  # a real text codec that cannot decode this one byte (UTF-16, say)


def _decode(raw: bytes, encoding: str) -> tuple[str | None, str | None]:
    """The line, or why it is not text; `encoding` was checked by _check_encoding."""
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1].hex()
        return None, f"not valid {encoding} (byte 0x{byte} at column {exc.start + 1}); set the encoding"


def _column(header: list[str], wanted: str) -> int | None:
    """Exact match, else the one header cell equal to it ignoring case and surrounding spaces."""
    if header.count(wanted) == 1:
        return header.index(wanted)
    loose = [i for i, cell in enumerate(header) if cell.strip().casefold() == wanted.casefold()]
    return loose[0] if len(loose) == 1 else None


def _columns(where: str, header: list[str], options: ReadOptions, delimiter: str) -> tuple[int, int]:
    """`where` names the file, and the header's line for a delimited file, in an error."""
    found = {wanted: _column(header, wanted) for wanted in (options.text, options.label)}
    missing = [wanted for wanted, index in found.items() if index is None]
    if not missing:
        return found[options.text], found[options.label]  # type: ignore[return-value]
    hint = ""
    for other, word in (("\t", "tab"), (",", "comma"), (";", "semicolon")):
        if other != delimiter and len(header) == 1 and other in header[0]:
            hint = f"; the header looks {word}-delimited, so the file's extension or delimiter is wrong"
    raise IngestError(
        f"{where}: missing or ambiguous column(s) {missing} (found {header}); "
        f"set the column mapping (text_column/label_column) to match{hint}"
    )


def _delimited(name: str, lines: list[bytes], options: ReadOptions, delimiter: str, quoting: bool) -> Records:
    out = Records()
    first = next(i for i, line in enumerate(lines) if line.strip())
    header_text, error = _decode(lines[first], options.encoding)
    if header_text is None:
        raise IngestError(f"{name}: line {first + 1}: header is {error}")
    if header_text.strip().lower().startswith("sep=") and len(header_text.strip()) == 5:
        delimiter = header_text.strip()[4]  # Excel's delimiter hint line
        hint_line = first + 1
        first = next((i for i in range(first + 1, len(lines)) if lines[i].strip()), len(lines))
        if first == len(lines):
            raise IngestError(f"{name}: line {hint_line}: a 'sep=' line with no header after it")
        # The real header can be undecodable too: say so, rather than report its columns as missing.
        header_text, error = _decode(lines[first], options.encoding)
        if header_text is None:
            raise IngestError(f"{name}: line {first + 1}: header is {error}")
    try:
        header = [cell.strip() for cell in _fields([header_text], delimiter, quoting)]
    except csv.Error as exc:
        raise IngestError(f"{name}: line {first + 1}: header has a quote problem: {exc}") from exc
    text_at, label_at = _columns(f"{name}: line {first + 1}", header, options, delimiter)
    out.lines = len(lines) - first - 1
    i = first + 1
    while i < len(lines):
        number, used = i + 1, 1
        line, error = _decode(lines[i], options.encoding)
        if line is not None and not line.strip() and delimiter not in line:  # "\t" in a TSV is a record
            out.blank += 1
        elif line is None:
            out.add_strings(number, None, None, error)
        elif quoting and '"' in line:
            record, used, error = _quoted(lines, i, delimiter, options.encoding)
            if error is not None:
                out.add_strings(number, line, None, error)
                used = 1  # a quote problem costs this line only: read on from the next one
            elif len(record) != len(header):
                # The record closed cleanly: the lines it spans lie inside its quotes, and none of them may
                # be read as a record of its own (that would cut a row out of the middle of a field).
                spans = f" (the record spans lines {number}-{number + used - 1})" if used > 1 else ""
                out.add_strings(
                    number, line, None, f"expected {len(header)} fields, found {len(record)}{spans}"
                )
                out.joined += used - 1
            else:
                out.add_strings(number, record[text_at], record[label_at])
                out.joined += used - 1
        else:
            record = line.split(delimiter)
            if len(record) == len(header):
                out.add_strings(number, record[text_at], record[label_at])
            else:
                out.add_strings(number, line, None, f"expected {len(header)} fields, found {len(record)}")
        i += used
    if not out.line:
        out.note = "header only, no records"
    return out


def _fields(lines: list[str], delimiter: str, quoting: bool) -> list[str]:
    if not quoting:
        return lines[0].split(delimiter)
    return next(csv.reader(lines, delimiter=delimiter, strict=True), [])


def _quoted(
    lines: list[bytes], start: int, delimiter: str, encoding: str
) -> tuple[list[str], int, str | None]:
    """The CSV record starting at line `start` and the number of lines it took, or the problem."""
    try:  # most quoted fields close on their own line
        return (
            next(csv.reader([lines[start].decode(encoding) + "\n"], delimiter=delimiter, strict=True)),
            1,
            None,
        )
    except (csv.Error, UnicodeDecodeError):
        pass

    def texts() -> Iterator[str]:
        for raw in lines[start : start + MAX_RECORD_LINES]:
            text, error = _decode(raw, encoding)
            if text is None:
                raise csv.Error(f"a line of the record is {error}")
            yield text + "\n"

    reader = csv.reader(texts(), delimiter=delimiter, strict=True)
    try:
        record = next(reader)
    except csv.Error as exc:
        problem = str(exc)
        if "unexpected end of data" in problem:
            problem = f"a quoted field is not closed within {MAX_RECORD_LINES} lines"
        return [], 1, f"quote problem: {problem}"
    return record, reader.line_num, None


def _jsonl(lines: list[bytes], options: ReadOptions) -> Records:
    out = Records(lines=len(lines))
    for number, raw in enumerate(lines, start=1):
        line, error = _decode(raw, options.encoding)
        if line is None:
            out.add(number, None, None, error)
            continue
        if not line.strip():
            out.blank += 1
            continue
        try:
            obj = strict_json.loads(line)
        except json.JSONDecodeError as exc:
            out.add(number, line, None, f"malformed JSON: {exc.msg} at column {exc.colno}")
            continue
        except strict_json.RepeatedFieldError as exc:
            out.add(number, line, None, str(exc))
            continue
        if not isinstance(obj, dict):
            out.add(number, line, None, f"expected a JSON object, got {type(obj).__name__}")
            continue
        missing = [key for key in (options.text, options.label) if key not in obj]
        error = f"missing field(s) {missing}" if missing else None
        out.add(number, obj.get(options.text), obj.get(options.label), error)
    return out


def _parquet(name: str, data: bytes, options: ReadOptions) -> Records:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise IngestError(f"{name}: not a readable Parquet file: {exc}") from exc
    out = Records(lines=table.num_rows, note="" if table.num_rows else "no rows")
    text_at, label_at = _columns(name, table.column_names, options, "")
    texts, labels = table.column(text_at).to_pylist(), table.column(label_at).to_pylist()
    for number, (text, label) in enumerate(zip(texts, labels, strict=True), start=1):
        out.add(number, text, label)
    return out
