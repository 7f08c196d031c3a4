from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ft_serving.predict_cli import InputError, main, read_file
from ft_serving.production import POINTER_PATH

from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore
from tests.conftest import TINY_LABELS
from tests.serving.test_bundle import CASES as BUNDLE_CASES

REPO_ROOT = Path(__file__).resolve().parents[2]


def _records(stdout: str) -> list[dict[str, object]]:
    records = [json.loads(line) for line in stdout.splitlines()]
    for record in records:
        assert set(record) <= {"text", "label", "score", "probabilities", "truncated"}
        assert record["label"] in TINY_LABELS
        assert list(record["probabilities"]) == TINY_LABELS
        assert record.get("truncated", True) is True  # present only when true
    return records


def test_texts_as_arguments(bundle_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = "a very long complaint " * 5000
    assert main(["--model", str(bundle_dir), "where is my order", "你好 🙂", huge]) == 0
    records = _records(capsys.readouterr().out)
    assert [r["text"] for r in records] == ["where is my order", "你好 🙂", huge]
    assert ["truncated" in r for r in records] == [False, False, True]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "in.txt",
            "first text\r\n\nthird text after a blank line\n",
            ["first text", "", "third text after a blank line"],
        ),
        (
            "in.csv",
            'id,text\n1,first text\n2,""\n3,"third, after a blank"\n',
            ["first text", "", "third, after a blank"],
        ),
        # A blank JSONL line is an empty text, as in .txt: one output per input line.
        (
            "in.jsonl",
            '{"text": "first text"}\n{"text": ""}\n\n{"text": "third", "id": 3}\n',
            ["first text", "", "", "third"],
        ),
    ],
)
def test_file_formats(
    name: str,
    content: str,
    expected: list[str],
    bundle_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert main(["--model", str(bundle_dir), "--file", str(path), "--batch-size", "2"]) == 0
    assert [r["text"] for r in _records(capsys.readouterr().out)] == expected


def test_invalid_utf8_names_file_and_line(
    bundle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\nalso fine\nbroken \xff\xfe here\nok\n")
    assert main(["--model", str(bundle_dir), "--file", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"ft-predict: {path}: line 3 is not valid UTF-8"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("no_text.csv", "sentence,label\nhi,a\n", "no 'text' column"),
        ("bad.jsonl", '{"text": "ok"}\n{"text": 5}\n', "line 2 has no string 'text' field"),
        ("broken.jsonl", '{"text": "ok"}\n{oops\n', "line 2 is not valid JSON"),
        ("twice.jsonl", '{"text": "ok"}\n{"text": "a", "text": "b"}\n', "line 2 names field 'text' twice"),
        # Read as plain lines, a TSV's header and label column would each be classified as text.
        ("msgs.tsv", "text\tlabel\nwhere is my parcel\tshipping\n", "unsupported file type '.tsv'"),
        ("msgs.json", '["a", "b"]', "unsupported file type '.json'"),
    ],
)
def test_malformed_files_exit_2(
    name: str,
    content: str,
    expected: str,
    bundle_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert main(["--model", str(bundle_dir), "--file", str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_stdin_lines(
    bundle_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO("one\nשלום עולם\n\nfour\n".encode()), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["--model", str(bundle_dir), "--int8", "--threads", "1"]) == 0
    assert [r["text"] for r in _records(capsys.readouterr().out)] == ["one", "שלום עולם", "", "four"]


def test_bad_bundle_exits_2_with_the_bundle_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bundle.json").write_text("{}")
    assert main(["--model", str(tmp_path), "text"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("ft-predict: bundle.json: missing field(s) ['base_model', 'data_version'")


@pytest.mark.parametrize("case", sorted(BUNDLE_CASES))
def test_every_bundle_problem_is_one_line(
    case: str, bundle_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    breakage, expected = BUNDLE_CASES[case]
    breakage(bundle_copy)
    assert main(["--model", str(bundle_copy), "text"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("ft-predict: ") and expected in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_default_model_is_the_production_bundle(
    bundle_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FT_ARTIFACTS_DIR", str(tmp_path))
    assert main(["hello"]) == 2
    assert f"no production model: {tmp_path / POINTER_PATH} does not exist" in capsys.readouterr().err
    Registry(ArtifactStore(root=str(tmp_path))).publish(bundle_dir, {"model_version": "v1"})
    assert main(["hello"]) == 0
    assert _records(capsys.readouterr().out)[0]["text"] == "hello"


def _run(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        args, input=stdin, capture_output=True, env=env, cwd=REPO_ROOT, timeout=120, check=False
    )


def test_module_reads_stdin_pipe_and_rejects_invalid_utf8(bundle_dir: Path) -> None:
    command = [sys.executable, "-m", "ft_serving.predict_cli", "--model", str(bundle_dir)]
    ok = _run(command, "refund please\nמשלוח\n".encode())
    assert ok.returncode == 0, ok.stderr.decode()
    assert [r["text"] for r in _records(ok.stdout.decode("utf-8"))] == ["refund please", "משלוח"]
    bad = _run(command, b"fine\n\xc3\x28 broken\n")
    assert bad.returncode == 2
    assert bad.stderr.decode().strip() == "ft-predict: <stdin>: line 2 is not valid UTF-8"


def test_serving_never_imports_torch_or_transformers(bundle_dir: Path) -> None:
    script = (
        "import sys\n"
        "from ft_serving.classifier import OnnxClassifier\n"
        "from ft_serving.predict_cli import main\n"
        f"predictions = OnnxClassifier({str(bundle_dir)!r}).predict(['hello', ''])\n"
        "assert len(predictions) == 2\n"
        f"assert main(['--model', {str(bundle_dir)!r}, 'hi']) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'transformers', 'dagster'})\n"
        "print('LOADED', loaded)\n"
    )
    result = _run([sys.executable, "-c", script])
    assert result.returncode == 0, result.stderr.decode()
    assert "LOADED []" in result.stdout.decode()


# Reading input files: unit tests of the reader, no bundle needed. Each text comes with the 1-based line of
# the file where it starts, so ft-predict and batch_predictions can both point back at the source.


def _read(tmp_path: Path, name: str, content: bytes) -> list[tuple[int, str]]:
    path = tmp_path / name
    path.write_bytes(content)
    return [tuple(item) for item in read_file(path)]


def test_txt_lines_are_numbered_and_blank_lines_kept(tmp_path: Path) -> None:
    assert _read(tmp_path, "in.txt", b"one\r\n\n  \nfour") == [(1, "one"), (2, ""), (3, "  "), (4, "four")]


def test_blank_jsonl_lines_are_empty_texts_like_blank_txt_lines(tmp_path: Path) -> None:
    content = b'{"text": "first"}\n\n{"text": "third"}\n   \n{"text": ""}\n'
    assert _read(tmp_path, "in.jsonl", content) == [(1, "first"), (2, ""), (3, "third"), (4, ""), (5, "")]


def test_csv_records_carry_the_line_they_start_on(tmp_path: Path) -> None:
    content = b'id,text\r\n1,first\r\n\r\n2,"two\nlines, quoted"\n3,""\n4,last\n'
    assert _read(tmp_path, "in.csv", content) == [
        (2, "first"),
        (4, "two\nlines, quoted"),
        (6, ""),
        (7, "last"),
    ]


def test_csv_with_a_bom_and_only_a_text_column(tmp_path: Path) -> None:
    assert _read(tmp_path, "in.csv", b'\xef\xbb\xbftext\n""\nhello\n') == [(2, ""), (3, "hello")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"id,text\n1,fine\n2\n", "line 3 has 1 field, the header 2"),
        (b"id,text\n1,fine\n2,hello, world\n", "line 3 has 3 fields, the header 2"),
        (b'id,text\n1,fine\n2,"never closed\n3,lost\n', "line 3: a quoted field is never closed"),
        (b'id,text\n1,"a" b\n', "line 2 is not valid CSV"),
        (b"id,text,text\n1,a,b\n", "line 1: 2 'text' columns"),
    ],
    ids=["short", "long", "open_quote", "text_after_quote", "two_text_columns"],
)
def test_malformed_csv_rows_are_errors_naming_file_and_line(
    content: bytes, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        read_file(path)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)


def test_malformed_csv_exits_2_before_any_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,text\n1,fine\n2,hello, world\n")
    # Input is read before the bundle loads, so a missing bundle is never reached.
    assert main(["--model", str(tmp_path / "no-bundle"), "--file", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"ft-predict: {path}: line 3 has 3 fields, the header 2")
