"""Audit findings on the readers: Parquet bytes became Python reprs, TSV records of whitespace were lost."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ft_assets.ingest.batch import read_folder
from ft_assets.ingest.readers import ReadOptions, read_bytes
from ft_assets.validation.rules import ValidationRules
from ft_assets.validation.suite import validate_examples

OPTIONS = ReadOptions()


def parquet(table: pa.Table, tmp_path: Path, name: str = "b.parquet") -> bytes:
    path = tmp_path / name
    pq.write_table(table, path)
    return path.read_bytes()


# 3. Parquet binary columns


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_parquet_binary_columns_are_decoded_as_utf8(tmp_path, kind) -> None:
    table = pa.table(
        {
            "text": pa.array([b"hi", "caf\u00e9".encode(), None, b""], kind),
            "label": pa.array([b"pos", b"neg", b"pos", None], kind),
        }
    )
    records = read_bytes("b.parquet", parquet(table, tmp_path), OPTIONS)
    assert records.text == ["hi", "caf\u00e9", None, ""]
    assert records.label == ["pos", "neg", "pos", None]
    assert records.error == [None, None, None, None]


def test_parquet_binary_that_is_not_utf8_is_an_ingest_error_not_a_repr(tmp_path) -> None:
    table = pa.table(
        {
            "text": pa.array([b"fine", b"caf\xe9 latin-1", b"ok"], pa.binary()),
            "label": pa.array([b"pos", b"neg", b"\xffbad"], pa.binary()),
        }
    )
    records = read_bytes("b.parquet", parquet(table, tmp_path), OPTIONS)
    assert records.line == [1, 2, 3]
    assert records.text[0] == "fine" and records.error[0] is None
    assert records.error[1] == "text is not valid UTF-8 (byte 0xe9 at position 4)"
    assert records.error[2] == "label is not valid UTF-8 (byte 0xff at position 1)"
    assert not any(str(v).startswith(("b'", 'b"')) for v in records.text + records.label)


def test_undecodable_parquet_bytes_reach_quarantine_with_file_and_row(tmp_path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    texts = [f"message {i}".encode() for i in range(20)] + [b"\xff\xfe not text"]
    labels = [b"pos", b"neg"] * 10 + [b"pos"]
    pq.write_table(
        pa.table({"text": pa.array(texts, pa.binary()), "label": pa.array(labels, pa.binary())}),
        folder / "b.parquet",
    )
    batch = read_folder(folder, OPTIONS)
    out = validate_examples(batch.frame, ValidationRules())
    assert out.class_counts == {"neg": 10, "pos": 10}
    [row] = out.quarantined.to_dict("records")
    assert (row["source_file"], row["source_line"], row["rule"]) == ("b.parquet", 21, "record_parsed")
    assert row["reason"] == "unreadable record: text is not valid UTF-8 (byte 0xff at position 1)"
    assert "b.parquet:21: unreadable record" in out.report("record_parsed").details[0]


# 4. A TSV line with a delimiter is a record, however blank its fields


def test_a_whitespace_only_tsv_line_with_a_tab_is_a_record() -> None:
    content = b"text\tlabel\nhi\tx\n\t\n  \t \n   \n\nbye\ty\n"
    records = read_bytes("a.tsv", content, OPTIONS)
    assert records.line == [2, 3, 4, 7]
    assert records.text == ["hi", "", "  ", "bye"]
    assert records.label == ["x", "", " ", "y"]
    assert records.error == [None, None, None, None]
    assert (records.lines, records.blank) == (6, 2)  # lines 5 and 6 have no tab: blank lines


def test_whitespace_tsv_records_are_quarantined_with_their_line(tmp_path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    lines = [f"message {i}\t{'pos' if i % 2 else 'neg'}" for i in range(20)]
    (folder / "a.tsv").write_text("text\tlabel\n" + "\n".join(lines) + "\n\t\n \t \n\t\t\n")
    batch = read_folder(folder, OPTIONS)
    [report] = batch.files
    assert (report.lines, report.records, report.blank) == (23, 23, 0)
    out = validate_examples(batch.frame, ValidationRules())
    quarantined = out.quarantined.set_index("source_line")[["rule", "reason"]].to_dict("index")
    assert quarantined == {
        22: {"rule": "text_not_blank", "reason": "text is blank"},
        23: {"rule": "text_not_blank", "reason": "text is blank"},
        24: {"rule": "record_parsed", "reason": "unreadable record: expected 2 fields, found 3"},
    }


def test_a_csv_line_of_commas_was_and_is_a_record() -> None:
    records = read_bytes("a.csv", b"text,label\nhi,x\n,\n , \n  \n", OPTIONS)
    assert (records.line, records.text, records.blank) == ([2, 3, 4], ["hi", "", " "], 1)
