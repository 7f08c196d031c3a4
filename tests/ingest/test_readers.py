import json
from pathlib import Path

import pandas as pd
import pytest

from ft_assets.ingest.discovery import data_version, list_data_files
from ft_assets.ingest.readers import ColumnMapping, IngestError, read_file

MAPPING = ColumnMapping()


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_csv_keeps_source_lines_across_quoted_newlines(tmp_path):
    path = write(tmp_path / "a.csv", 'text,label\nhello,x\n"two\nlines",y\nlast,x\n')
    frame = read_file(path, "a.csv", MAPPING)
    assert frame["text"].tolist() == ["hello", "two\nlines", "last"]
    assert frame["source_line"].tolist() == [2, 3, 5]
    assert frame["ingest_error"].isna().all()


def test_integer_labels_become_strings(tmp_path):
    path = write(tmp_path / "a.tsv", "sentence\tlabel\ngood film\t1\nbad film\t0\n")
    frame = read_file(path, "a.tsv", ColumnMapping(text="sentence"))
    assert frame["label"].tolist() == ["1", "0"]


def test_empty_file_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path / "empty.csv", "")
    with pytest.raises(IngestError, match=r"empty\.csv: line 1: file is empty"):
        read_file(path, "empty.csv", MAPPING)


def test_missing_column_names_the_columns(tmp_path):
    path = write(tmp_path / "b.csv", "body,label\nhi,x\n")
    with pytest.raises(IngestError, match=r"b\.csv: line 1: missing column\(s\) \['text'\]"):
        read_file(path, "b.csv", MAPPING)


def test_wrong_delimiter_is_detected(tmp_path):
    path = write(tmp_path / "c.csv", "text\tlabel\nhi\tx\n")
    with pytest.raises(IngestError, match="tab-delimited"):
        read_file(path, "c.csv", MAPPING)


def test_undecodable_bytes_become_a_flagged_row(tmp_path):
    path = write(tmp_path / "d.csv", b"text,label\nfine,x\nbad \xff byte,x\nalso fine,y\n")
    frame = read_file(path, "d.csv", MAPPING)
    assert len(frame) == 3
    bad = frame[frame["ingest_error"].notna()]
    assert bad["source_line"].tolist() == [3]
    assert "invalid UTF-8" in bad["ingest_error"].iloc[0]


def test_malformed_json_line_becomes_a_flagged_row(tmp_path):
    lines = [
        json.dumps({"text": "ok", "label": "x"}),
        '{"text": "broken',
        "[1, 2]",
        json.dumps({"text": "t"}),
    ]
    path = write(tmp_path / "e.jsonl", "\n".join(lines) + "\n")
    frame = read_file(path, "e.jsonl", MAPPING)
    assert frame["source_line"].tolist() == [1, 2, 3, 4]
    errors = frame["ingest_error"].tolist()
    assert pd.isna(errors[0])
    assert errors[1].startswith("malformed JSON")
    assert "expected a JSON object" in errors[2]
    assert "missing field" in errors[3]


def test_wrong_field_count_is_flagged_not_dropped(tmp_path):
    path = write(tmp_path / "f.csv", "text,label\na,b,c\nfine,x\n")
    frame = read_file(path, "f.csv", MAPPING)
    assert len(frame) == 2
    assert frame.loc[0, "ingest_error"] == "expected 2 fields, found 3"


def test_parquet_rows_are_numbered(tmp_path):
    path = tmp_path / "g.parquet"
    pd.DataFrame({"text": ["a", "b"], "label": [1, 2]}).to_parquet(path)
    frame = read_file(path, "g.parquet", MAPPING)
    assert frame["source_line"].tolist() == [1, 2]
    assert frame["label"].tolist() == ["1", "2"]


def test_data_version_changes_with_content_and_new_files(tmp_path):
    write(tmp_path / "a.csv", "text,label\nhi,x\n")
    first = data_version(tmp_path)
    assert data_version(tmp_path) == first
    write(tmp_path / "a.csv", "text,label\nhi,y\n")
    changed = data_version(tmp_path)
    assert changed != first
    write(tmp_path / "b.jsonl", '{"text": "x", "label": "y"}\n')
    assert data_version(tmp_path) != changed
    assert [p.name for p in list_data_files(tmp_path)] == ["a.csv", "b.jsonl"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        list_data_files(tmp_path / "nope")
