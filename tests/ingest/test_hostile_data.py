"""Hostile but ordinary files: every record is accounted for, and every rejected one says why and where.

Each case reads a folder with the pipeline's reader and runs the validation suite, then checks the
invariant (per file: lines = records + blank + continuation lines; records in = valid + quarantined)
and the rule and reason of the rows it is about.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pandas as pd
import pytest

from ft_assets.ingest.batch import Batch, read_folder
from ft_assets.ingest.discovery import IngestError, data_version, digest
from ft_assets.ingest.readers import MAX_RECORD_LINES, ReadOptions, read_bytes
from ft_assets.validation.outcome import ValidationOutcome
from ft_assets.validation.rules import ValidationRules
from ft_assets.validation.suite import validate_examples


def clean_lines(n: int = 20, sep: str = ",") -> list[str]:
    return [f"message number {i} about my order{sep}positive" for i in range(n)] + [
        f"complaint number {i} here{sep}negative" for i in range(n)
    ]


def ingest(folder: Path, files: dict[str, str | bytes], options: ReadOptions | None = None, **rules: object):
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    batch = read_folder(folder, options or ReadOptions())
    out = validate_examples(batch.frame, ValidationRules(**rules))
    assert_accounted(batch, out)
    return batch, out


def assert_accounted(batch: Batch, out: ValidationOutcome) -> None:
    for report in batch.files:
        assert report.lines == report.records + report.blank + report.joined, report
        assert report.records == int((batch.frame["source_file"] == report.name).sum())
    assert len(out.valid) + len(out.quarantined) == len(batch.frame)
    where = lambda f: set(zip(f["source_file"], f["source_line"], strict=True))  # noqa: E731
    assert where(out.valid) | where(out.quarantined) == where(batch.frame)
    assert not where(out.valid) & where(out.quarantined)
    assert out.quarantined["reason"].str.len().gt(0).all()


def at(out: ValidationOutcome, name: str, line: int) -> tuple[str, str]:
    rows = out.quarantined[
        (out.quarantined["source_file"] == name) & (out.quarantined["source_line"] == line)
    ]
    assert len(rows) == 1, f"{name}:{line} is not quarantined once: {out.quarantined.to_dict('records')}"
    return rows["rule"].iloc[0], rows["reason"].iloc[0]


def test_a_stray_quote_in_a_tsv_is_text_and_costs_nothing(tmp_path):
    lines = [*clean_lines(26, "\t"), '"Great" support, thanks\tpositive']
    lines[3] = '"Unclosed quote at the start\tnegative'
    batch, out = ingest(tmp_path / "raw", {"a.tsv": "text\tlabel\n" + "\n".join(lines) + "\n"})
    assert len(batch.frame) == 53 and out.quarantined.empty
    assert '"Great" support, thanks' in set(out.valid["text"])
    assert '"Unclosed quote at the start' in set(out.valid["text"])


def test_a_stray_quote_in_a_csv_costs_only_its_line(tmp_path):
    lines = [*clean_lines(26), '"Quoted, properly",positive']
    lines[3] = '"Great support thanks,negative'
    lines[10] = '"Great" support,positive'
    batch, out = ingest(tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(lines) + "\n"})
    assert len(batch.frame) == 53
    assert len(out.quarantined) == 2 and len(out.valid) == 51
    assert at(out, "a.csv", 5)[0] == "record_parsed" and "quote problem" in at(out, "a.csv", 5)[1]
    assert "quote problem" in at(out, "a.csv", 12)[1]
    assert "Quoted, properly" in set(out.valid["text"])


def test_a_quoted_field_may_span_lines_but_a_runaway_one_stops_at_the_limit(tmp_path):
    runaway = ['"never closed,positive'] + [
        f"line {i} after it,negative" for i in range(MAX_RECORD_LINES + 5)
    ]
    content = 'text,label\n"two\nlines",positive\n' + "\n".join(runaway) + "\n"
    batch, out = ingest(tmp_path / "raw", {"a.csv": content}, min_examples_per_class=1)
    [report] = batch.files
    assert (report.records, report.joined) == (len(runaway) + 1, 1)
    assert "two\nlines" in set(out.valid["text"])
    assert "not closed within" in at(out, "a.csv", 4)[1]


def test_label_variants_are_reported_and_block_only_when_they_make_a_new_class(tmp_path):
    labels = ["positive"] * 12 + [" positive", "positive "] + ["Positive"] * 12 + ["POSITIVE"] * 2
    rows = [f"text {i},{label}" for i, label in enumerate(labels)] + [
        f"other {i},negative" for i in range(12)
    ]
    content = "text,label\n" + "\n".join(rows) + "\n"
    _, out = ingest(tmp_path / "raw", {"a.csv": content})
    assert out.allowed_labels == ("Positive", "negative", "positive")
    variants = out.report("label_variants")
    assert variants.blocking and not variants.success
    assert any("separate classes ['Positive', 'positive']" in d for d in variants.details)
    assert "looks like a variant of" in at(out, "a.csv", 28)[1]  # 'POSITIVE', too rare to be a class

    _, folded = ingest(tmp_path / "folded", {"a.csv": content}, fold_label_case=True)
    assert folded.allowed_labels == ("negative", "positive") and folded.quarantined.empty
    assert folded.class_counts == {"negative": 12, "positive": 28}
    merged = folded.report("label_variants")
    assert not merged.success and not merged.blocking  # reported as a warning: the merge is the rule's


def test_an_explicit_label_map_and_allowed_set(tmp_path):
    rows = [f"text {i},pos" for i in range(10)] + [f"other {i},neg" for i in range(10)] + ["odd,neutral"]
    _, out = ingest(
        tmp_path / "raw",
        {"a.csv": "text,label\n" + "\n".join(rows) + "\n"},
        label_map={"pos": "positive", "neg": "negative"},
        allowed_labels=["positive", "negative"],
    )
    assert out.class_counts == {"positive": 10, "negative": 10}
    assert at(out, "a.csv", 22) == (
        "label_allowed",
        "label 'neutral' is not in the allowed set ['positive', 'negative']",
    )


@pytest.mark.parametrize("token", ["NaN", "None", "null", "N/A", "", "  ", "nan", "#N/A"])
def test_null_tokens_are_a_missing_label(tmp_path, token):
    content = "text,label\n" + "\n".join(clean_lines(10)) + f"\nno label here,{token}\n"
    _, out = ingest(tmp_path / "raw", {"a.csv": content})
    rule, reason = at(out, "a.csv", 22)
    assert rule == "label_present" and reason.startswith("label is missing")
    assert out.allowed_labels == ("negative", "positive")


def test_parquet_and_jsonl_nulls_floats_and_booleans(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    pd.DataFrame(
        {"text": [f"parquet {i}" for i in range(12)], "label": [0.0, 1.0] * 5 + [float("nan"), 1.0]}
    ).to_parquet(folder / "a.parquet")
    jsonl = [
        {"text": f"json {i}", "label": label} for i, label in enumerate([1, "1", "1.0", True, None, False, 0])
    ]
    (folder / "b.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in jsonl) + '{"text": "nan", "label": NaN}\n'
    )
    batch = read_folder(folder, ReadOptions())
    out = validate_examples(batch.frame, ValidationRules(min_examples_per_class=5))
    assert_accounted(batch, out)
    assert out.allowed_labels == ("0", "1")
    assert out.class_counts == {"0": 7, "1": 10}
    assert at(out, "a.parquet", 11) == ("label_present", "label is missing")
    assert at(out, "b.jsonl", 5) == ("label_present", "label is missing")
    assert at(out, "b.jsonl", 8) == ("label_present", "label is missing")
    merged = out.report("label_variants")
    assert not merged.blocking and any("'1.0' -> '1'" in d and "'True' -> '1'" in d for d in merged.details)


def test_huge_fields_are_quarantined_with_their_line(tmp_path):
    huge = "x" * 200_000
    csv_text = "text,label\n" + "\n".join(clean_lines(10)) + f'\n"{huge}",positive\n{huge},negative\n'
    jsonl = "".join(json.dumps({"text": t, "label": "positive"}) + "\n" for t in ["fine", "y" * 1_000_000])
    _, out = ingest(tmp_path / "raw", {"a.csv": csv_text, "b.jsonl": jsonl})
    assert (
        at(out, "a.csv", 22)[0] == "record_parsed"
        and "field larger than field limit" in at(out, "a.csv", 22)[1]
    )
    assert at(out, "a.csv", 23) == ("text_length", "text length 200,000 exceeds max_text_chars=5000")
    assert at(out, "b.jsonl", 2) == ("text_length", "text length 1,000,000 exceeds max_text_chars=5000")


def test_the_data_version_hashes_exactly_the_bytes_parsed_in_one_read(tmp_path, monkeypatch):
    folder = tmp_path / "raw"
    folder.mkdir()
    content = ("text,label\n" + "\n".join(clean_lines(5)) + "\n").encode()
    (folder / "a.csv").write_bytes(content)
    reads = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or original(self))
    batch = read_folder(folder, ReadOptions())
    assert len(reads) == 1
    assert batch.version == data_version({"a.csv": digest(content)})


def test_links_out_of_the_folder_and_unsupported_files_are_skipped_with_the_reason(tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("text,label\nsecret text,positive\n")
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "a.csv").write_text("text,label\n" + "\n".join(clean_lines(10)) + "\n")
    (folder / "leak.csv").symlink_to(outside)
    (folder / "same.csv").symlink_to(folder / "a.csv")
    (folder / "sub").symlink_to(tmp_path, target_is_directory=True)
    (folder / "book.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "notes.txt").write_text("hello")
    os.mkfifo(folder / "pipe.csv")  # reading it would hang the run
    batch = read_folder(folder, ReadOptions())
    assert [f.name for f in batch.files] == ["a.csv"]
    reasons = {s.name: s.reason for s in batch.skipped}
    assert "outside the data folder" in reasons["leak.csv"]
    assert reasons["same.csv"] == "the same file as a.csv"
    assert "not followed" in reasons["sub/"]
    assert "unsupported file type '.xlsx'" in reasons["book.xlsx"]
    assert "unsupported file type '.txt'" in reasons["notes.txt"]
    assert reasons["pipe.csv"] == "not a regular file"
    assert "secret text" not in set(batch.frame["text"])


@pytest.mark.parametrize(
    ("content", "lines"),
    [
        (b"\xef\xbb\xbftext,label\r\nhello there,positive\r\n\r\nbye now,negative\r\n", [2, 4]),
        (b"text,label\rhello there,positive\r\rbye now,negative\r", [2, 4]),
        ("text\tlabel\nhello there\tpositive\nbye now\tnegative\n".encode("utf-16"), [2, 3]),
        (b"sep=;\ntext;label\nhello there;positive\nbye now;negative\n", [3, 4]),
        (b"Text , LABEL\nhello there,positive\nbye now,negative", [2, 3]),
    ],
    ids=["bom-crlf", "cr-only", "utf16-excel", "excel-sep-line", "header-case-no-final-newline"],
)
def test_encodings_line_endings_and_spreadsheet_exports(tmp_path, content, lines):
    suffix = ".tsv" if b"\t\x00" in content else ".csv"
    _, out = ingest(tmp_path / "raw", {f"a{suffix}": content}, min_examples_per_class=1)
    assert list(out.valid["source_line"]) == lines and out.quarantined.empty
    assert list(out.valid["text"]) == ["hello there", "bye now"]


def test_latin1_bytes_are_quarantined_unless_the_encoding_is_set(tmp_path):
    content = ("text,label\n" + "\n".join(clean_lines(10)) + "\ncafé crème,positive\n").encode("latin-1")
    _, out = ingest(tmp_path / "raw", {"a.csv": content})
    rule, reason = at(out, "a.csv", 22)
    assert rule == "record_parsed" and "not valid utf-8 (byte 0xe9 at column 4); set the encoding" in reason
    _, latin = ingest(tmp_path / "latin", {"a.csv": content}, ReadOptions(encoding="latin-1"))
    assert latin.quarantined.empty and "café crème" in set(latin.valid["text"])


def test_header_only_and_zero_byte_files_count_zero_records(tmp_path):
    files = {
        "a.csv": "text,label\n" + "\n".join(clean_lines(10)) + "\n",
        "head.csv": "text,label\n",
        "zero.jsonl": "",
    }
    batch, _ = ingest(tmp_path / "raw", files)
    notes = {f.name: (f.records, f.note) for f in batch.files}
    assert notes["head.csv"] == (0, "header only, no records") and notes["zero.jsonl"] == (0, "empty file")


@pytest.mark.parametrize(
    ("name", "tail", "problem"),
    [("a.csv", '"cut off in the midd', "quote problem"), ("a.tsv", "cut off", "expected 2 fields, found 1")],
)
def test_a_partial_last_line_is_quarantined(tmp_path, name, tail, problem):
    sep = "," if name.endswith(".csv") else "\t"
    content = f"text{sep}label\n" + "\n".join(clean_lines(10, sep)) + "\n" + tail
    _, out = ingest(tmp_path / "raw", {name: content})
    rule, reason = at(out, name, 22)
    assert rule == "record_parsed" and problem in reason


def test_a_partial_last_jsonl_line_is_quarantined(tmp_path):
    pairs = [line.split(",") for line in clean_lines(10)]
    jsonl = "".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in pairs)
    _, out = ingest(tmp_path / "raw", {"a.jsonl": jsonl + '{"text": "cut off'})
    assert at(out, "a.jsonl", 21)[1].startswith("unreadable record: malformed JSON")


def test_duplicates_are_kept_and_reported_and_conflicts_are_quarantined(tmp_path):
    content = "text,label\n" + "\n".join(clean_lines(10)) + "\nmessage number 1 about my order,positive\n"
    content += "Complaint  number 2 HERE,positive\n"
    _, out = ingest(tmp_path / "raw", {"a.csv": content})
    repeats = out.report("text_unique")
    assert not repeats.success and repeats.quarantined == 0
    assert "a.csv:22: same text and label as a.csv:3" in repeats.details
    assert at(out, "a.csv", 23) == ("label_conflict", "text also labelled 'negative' at a.csv:14")
    assert at(out, "a.csv", 14) == ("label_conflict", "text also labelled 'positive' at a.csv:23")


def test_formulas_control_characters_and_wrong_shapes(tmp_path):
    extra = [
        "\"=cmd|' /C calc'!A0\",positive",
        '"=HYPERLINK(""http://x"",""click"")",negative',
        "#REF!,positive",
        "=) thanks a lot,positive",
        "nul\x00 inside,negative",
        "one,two,three",
    ]
    content = "text,label\n" + "\n".join(clean_lines(10) + extra) + "\n"
    jsonl = '{"text": ["a", "list"], "label": "positive"}\n[1, 2]\n{"text": "no label"}\n'
    _, out = ingest(tmp_path / "raw", {"a.csv": content, "b.jsonl": jsonl})
    assert [at(out, "a.csv", n)[0] for n in (22, 23, 24)] == ["text_not_formula"] * 3
    assert "=) thanks a lot" in set(out.valid["text"])
    assert at(out, "a.csv", 26) == ("text_printable", "text contains control character U+0000 at column 4")
    assert at(out, "a.csv", 27) == ("record_parsed", "unreadable record: expected 2 fields, found 3")
    assert "text is a list" in at(out, "b.jsonl", 1)[1]
    assert "expected a JSON object, got list" in at(out, "b.jsonl", 2)[1]
    assert "missing field(s) ['label']" in at(out, "b.jsonl", 3)[1]


def test_two_hundred_thousand_rows_are_all_accounted_for(tmp_path):
    rows = [f"message {i} about item {i % 977},{('positive', 'negative')[i % 2]}" for i in range(200_000)]
    rows[123_456] = '"broken quote,positive'
    batch, out = ingest(tmp_path / "raw", {"big.csv": "text,label\n" + "\n".join(rows) + "\n"})
    assert len(batch.frame) == 200_000 and len(out.valid) == 199_999
    assert at(out, "big.csv", 123_458)[0] == "record_parsed"


def test_random_junk_never_crashes_the_reader_and_every_line_is_accounted_for():
    rng = random.Random(1)
    pieces = [
        b"a",
        b" ",
        b",",
        b"\t",
        b'"',
        b"\n",
        b"\r",
        b"\r\n",
        b"\x00",
        b"\xff",
        b"{",
        b"}",
        b":",
        b"text",
    ]
    for _ in range(500):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        for name, header in (("a.csv", b"text,label\n"), ("a.tsv", b"text\tlabel\n"), ("a.jsonl", b"")):
            try:
                records = read_bytes(name, header + body, ReadOptions())
            except IngestError:
                continue  # a whole-file problem, named; never another exception
            assert records.lines == len(records.line) + records.blank + records.joined
