"""Errors that stop a whole file name the file, the line where one applies, and the real problem."""

import pytest

from ft_assets.ingest.discovery import IngestError
from ft_assets.ingest.readers import ReadOptions, read_bytes


@pytest.mark.parametrize("encoding", ["no-such-codec", "rot13"])
def test_an_unusable_encoding_names_the_file_and_the_setting(encoding: str) -> None:
    with pytest.raises(IngestError) as error:
        read_bytes("batch/a.csv", b"text,label\nhi,x\n", ReadOptions(encoding=encoding))
    message = str(error.value)
    assert message.startswith("batch/a.csv: ")
    assert repr(encoding) in message and "encoding" in message


def test_an_undecodable_header_after_a_sep_line_is_a_decoding_error() -> None:
    content = b"sep=;\ntext;l\xe9bel\nhello;x\n"
    with pytest.raises(
        IngestError, match=r"^a\.csv: line 2: header is not valid utf-8 \(byte 0xe9 at column 7\)"
    ):
        read_bytes("a.csv", content, ReadOptions())


def test_a_sep_line_without_a_header_says_so() -> None:
    with pytest.raises(IngestError, match=r"^a\.csv: line 1: a 'sep=' line with no header after it"):
        read_bytes("a.csv", b"sep=;\n\n", ReadOptions())


def test_missing_columns_name_the_header_line_it_was_read_from() -> None:
    with pytest.raises(IngestError, match=r"^a\.csv: line 3: missing or ambiguous column\(s\) \['label'\]"):
        read_bytes("a.csv", b"\nsep=;\ntext;category\nhello;x\n", ReadOptions())


def test_missing_parquet_columns_name_the_file_without_a_line(tmp_path) -> None:
    import pandas as pd

    path = tmp_path / "g.parquet"
    pd.DataFrame({"body": ["a"], "label": ["x"]}).to_parquet(path)
    with pytest.raises(IngestError, match=r"^g\.parquet: missing or ambiguous column\(s\) \['text'\]"):
        read_bytes("g.parquet", path.read_bytes(), ReadOptions())
