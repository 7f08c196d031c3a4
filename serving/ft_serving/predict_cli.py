"""``ft-predict``: classify texts with the production bundle, one JSON object per line.

Imports onnxruntime and tokenizers through OnnxClassifier, never torch, so it starts fast.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from ft_serving import strict_json
from ft_serving.classifier import BundleError, OnnxClassifier, Prediction
from ft_serving.locations import production_dir

# What --file (and the batch_predictions inbox) reads; a file with no suffix is read as .txt.
FILE_SUFFIXES = (".txt", ".csv", ".jsonl")
EXIT_OK = 0
EXIT_BROKEN_PIPE = 1
EXIT_USAGE = 2


class InputError(ValueError):
    """Unreadable input; the message names the source and, where known, the line."""


class SourceText(NamedTuple):
    """A text to classify and the 1-based line of its file where it starts (a CSV record's first line)."""

    line: int
    text: str


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ft-predict",
        description="Classify texts with an ONNX bundle. Reads standard input lines when given no "
        "TEXT and no --file. Every line of standard input, a .txt or a .jsonl gets one output line; a blank "
        "line is classified as empty text (the model's answer with no words), so output stays aligned with "
        "input. A .csv gets one output line per record (the header and blank lines are not records). A "
        "malformed line (invalid UTF-8 or JSON, a CSV row whose field count differs from the header's, a "
        "quote never closed) stops ft-predict before any output, naming the file and line.",
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    parser.add_argument(
        "--file",
        type=Path,
        help=".txt (a text a line), .csv (a 'text' column), .jsonl (an object with a string 'text' a line)",
    )
    parser.add_argument("--model", type=Path, default=None, help="bundle directory (default: production)")
    parser.add_argument("--int8", action="store_true", help="use model.int8.onnx")
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        help="texts per inference call (the INT8 graph takes one at a time)",
    )
    parser.add_argument("--threads", type=_positive_int, default=None, help="onnxruntime intra-op threads")
    return parser


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {number}")
    return number


def decode_utf8(data: bytes, source: str) -> str:
    """Strict UTF-8 (a BOM is dropped); the error names the line, which a byte offset does not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"{source}: line {line} is not valid UTF-8") from None


def split_lines(text: str) -> list[str]:
    # Only \n (and \r\n) end a line: str.splitlines would also split texts on U+2028 or \x0c.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def read_input_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def parse_input(data: bytes, path: Path) -> list[SourceText]:
    """The texts of a file's bytes, by its suffix. Takes bytes so a caller can hash what it parsed."""
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES and suffix != "":
        # Read as plain lines, a .tsv's header and label column or a .json array would each be classified
        # as text, with confident answers: refused instead.
        raise InputError(
            f"{path}: unsupported file type {suffix!r}: ft-predict reads .txt (or no suffix: one text per "
            "line), .csv (a 'text' column) and .jsonl (a 'text' field per line)"
        )
    content = decode_utf8(data, str(path))
    if suffix == ".csv":
        return _csv_texts(content, path)
    lines = enumerate(split_lines(content), 1)
    if suffix == ".jsonl":
        return [SourceText(n, _jsonl_text(line, path, n)) for n, line in lines]
    return [SourceText(n, line) for n, line in lines]


def read_file(path: Path) -> list[SourceText]:
    return parse_input(read_input_bytes(path), path)


def _csv_texts(content: str, path: Path) -> list[SourceText]:
    # strict: a quote left open raises instead of taking the rest of the file into one field, and text
    # after a closing quote ("a" b) is an error rather than glued on.
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    header: list[str] | None = None
    column = 0
    texts: list[SourceText] = []
    start = 1  # the line the record being read starts on; line_num is where it ended
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:  # a blank line is no record in CSV (nor in the ingest reader)
                continue
            if header is None:
                header, column = row, _text_column(row, path, line)
                continue
            if len(row) != len(header):
                # A short row used to read as empty text and extra fields were dropped: both hide a
                # broken row (an unquoted comma in a text, a lost field) behind a plausible answer.
                hint = "; quote a text that holds a comma" if len(row) > len(header) else ""
                raise InputError(
                    f"{path}: line {line} has {len(row)} field{'s' * (len(row) != 1)}, "
                    f"the header {len(header)}{hint}"
                )
            texts.append(SourceText(line, row[column]))
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise InputError(f"{path}: line {start}: a quoted field is never closed") from None
        raise InputError(f"{path}: line {start} is not valid CSV ({error})") from None
    if header is None:
        raise InputError(f"{path}: no 'text' column (columns: [])")
    return texts


def _text_column(header: list[str], path: Path, line: int) -> int:
    count = header.count("text")
    if count == 0:
        raise InputError(f"{path}: no 'text' column (columns: {header})")
    if count > 1:
        raise InputError(f"{path}: line {line}: {count} 'text' columns (columns: {header})")
    return header.index("text")


def _jsonl_text(line: str, path: Path, number: int) -> str:
    if not line.strip():
        # Classified as empty text, as a blank .txt line is: one output per input line, none lost.
        return ""
    try:
        record = strict_json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: line {number} is not valid JSON ({error.msg})") from None
    except strict_json.RepeatedFieldError as error:
        raise InputError(f"{path}: line {number} names field {error.field!r} twice") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise InputError(f"{path}: line {number} has no string 'text' field")
    return record["text"]


def read_stdin() -> list[str]:
    stream = sys.stdin
    buffer = getattr(stream, "buffer", None)
    return split_lines(decode_utf8(buffer.read(), "<stdin>") if buffer else stream.read())


def check_arguments(texts: Iterable[str]) -> list[str]:
    checked = []
    for number, text in enumerate(texts, 1):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # argv bytes that were not UTF-8 arrive as lone surrogates
            raise InputError(f"argument {number} is not valid UTF-8") from None
        checked.append(text)
    return checked


def to_record(prediction: Prediction) -> dict[str, object]:
    """The output object of ft-predict and ft-serve alike."""
    record: dict[str, object] = {
        "text": prediction.text,
        "label": prediction.label,
        "score": prediction.score,
        "probabilities": prediction.probabilities,
    }
    if prediction.truncated:
        record["truncated"] = True
    return record


def to_json(prediction: Prediction) -> str:
    return json.dumps(to_record(prediction), ensure_ascii=False)


def _utf8_stdout() -> None:
    """JSON Lines is UTF-8 whatever the locale says; a Latin-1 terminal would fail on CJK text."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    if encoding != "utf8" and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _utf8_stdout()
    try:
        if args.file is not None:
            texts = [*check_arguments(args.texts), *(item.text for item in read_file(args.file))]
        else:
            texts = check_arguments(args.texts) if args.texts else read_stdin()
        classifier = OnnxClassifier(args.model or production_dir(), int8=args.int8, threads=args.threads)
    except (InputError, BundleError) as error:
        print(f"ft-predict: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        # Input is read and checked in full first (no partial output on a bad line); output streams.
        for start in range(0, len(texts), args.batch_size):
            batch = texts[start : start + args.batch_size]
            sys.stdout.write("".join(to_json(p) + "\n" for p in classifier.predict(batch, args.batch_size)))
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader left (ft-predict ... | head). Point stdout at devnull so the interpreter's
        # final flush does not raise a second time (the recipe in Python's signal docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
