from pathlib import Path

import pandas as pd
import pytest

from ft_assets.ingest.discovery import IngestError, folder_version, scan
from ft_assets.ingest.readers import ReadOptions, read_bytes

OPTIONS = ReadOptions()


def test_csv_keeps_source_lines_across_quoted_newlines():
    records = read_bytes("a.csv", b'text,label\nhello,x\n"two\nlines",y\nlast,x\n', OPTIONS)
    assert records.text == ["hello", "two\nlines", "last"]
    assert records.line == [2, 3, 5]
    assert records.error == [None, None, None]
    assert (records.lines, records.joined) == (4, 1)


def test_tsv_has_no_quoting_unless_asked():
    content = b'text\tlabel\n"quoted\ttab"\tx\n'
    assert read_bytes("a.tsv", content, OPTIONS).error == ["expected 2 fields, found 3"]
    quoted = read_bytes("a.tsv", content, ReadOptions(tsv_quoting=True))
    assert (quoted.text, quoted.error) == (["quoted\ttab"], [None])


def test_values_become_strings_and_missing_stays_missing(tmp_path):
    path = tmp_path / "g.parquet"
    pd.DataFrame({"sentence": ["a", None], "label": [1, 2]}).to_parquet(path)
    records = read_bytes("g.parquet", path.read_bytes(), ReadOptions(text="sentence"))
    assert (records.text, records.label, records.line) == (["a", None], ["1", "2"], [1, 2])


def test_missing_column_names_the_columns():
    with pytest.raises(IngestError, match=r"b\.csv: line 1: missing or ambiguous column\(s\) \['text'\]"):
        read_bytes("b.csv", b"body,label\nhi,x\n", OPTIONS)


def test_wrong_delimiter_is_detected():
    with pytest.raises(IngestError, match="tab-delimited"):
        read_bytes("c.csv", b"text\tlabel\nhi\tx\n", OPTIONS)


def test_a_damaged_parquet_file_names_itself():
    with pytest.raises(IngestError, match=r"d\.parquet: not a readable Parquet file"):
        read_bytes("d.parquet", b"PAR1 not really", OPTIONS)


def write(path: Path, content: str) -> Path:
    path.write_text(content)
    return path


def test_data_version_changes_with_content_names_and_new_files(tmp_path):
    write(tmp_path / "a.csv", "text,label\nhi,x\n")
    first = folder_version(scan(tmp_path))
    assert folder_version(scan(tmp_path)) == first
    write(tmp_path / "a.csv", "text,label\nhi,y\n")
    changed = folder_version(scan(tmp_path))
    assert changed != first
    write(tmp_path / "b.jsonl", '{"text": "x", "label": "y"}\n')
    assert folder_version(scan(tmp_path)) != changed
    (tmp_path / "b.jsonl").rename(tmp_path / "c.jsonl")
    assert [f.name for f in scan(tmp_path).files] == ["a.csv", "c.jsonl"]


def test_missing_or_unreadable_folder_is_a_clear_error(tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        scan(tmp_path / "nope")
    write(tmp_path / "a.xlsx", "x")
    with pytest.raises(
        IngestError, match=r"no \.csv, .* files found; skipped a\.xlsx: unsupported file type"
    ):
        scan(tmp_path)
