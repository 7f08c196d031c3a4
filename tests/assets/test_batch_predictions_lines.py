"""batch_predictions points every row at its real line in the inbox file and versions the bytes it scored.

A stub classifier stands in for the ONNX bundle, so these tests need no trained model.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pytest
from ft_serving.classifier import Prediction

from ft_assets.assets.batch_predictions import InboxConfig, batch_predictions, inbox_version
from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore
from ft_resources.classifier_resource import ClassifierResource

CHANGED = b"written while the inbox was being scored\n"


class StubModel:
    labels = ("yes", "no")
    model_version = "stub-1"

    def __init__(self, overwrite: str) -> None:
        self.overwrite = overwrite

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        if self.overwrite:  # a file lands in the inbox between reading and recording the version
            Path(self.overwrite).write_bytes(CHANGED)
        return [Prediction(t, "yes", 0.75, {"yes": 0.75, "no": 0.25}, False) for t in texts]


class StubClassifier(ClassifierResource):
    overwrite: str = ""

    def load(self, bundle_dir: Path | str) -> StubModel:  # type: ignore[override]
        return StubModel(self.overwrite)


def _score(inbox: Path, tmp_path: Path, overwrite: str = "") -> dg.Output:
    # batch_predictions scores with the bundle registry/production.json names: publish one for the stub.
    store = ArtifactStore(root=str(tmp_path / "artifacts"))
    if Registry(store).pointer() is None:
        bundle = tmp_path / "bundle"
        bundle.mkdir()
        (bundle / "model.onnx").write_bytes(b"stub")
        Registry(store).publish(bundle, {"model_version": StubModel.model_version})
    return batch_predictions(
        dg.build_asset_context(),
        config=InboxConfig(inbox_dir=str(inbox)),
        production_model={"production_version": StubModel.model_version},
        classifier=StubClassifier(overwrite=overwrite),
        artifact_store=store,
    )


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    # CSV: a header, a quoted text over two lines, a blank line; JSONL and .txt: blank lines.
    (folder / "a.csv").write_bytes(b'id,text\n1,first\n2,"two\nlines"\n\n3,third\n')
    (folder / "b.jsonl").write_bytes(b'{"text": "x"}\n\n{"text": "y"}\n')
    (folder / "c.txt").write_bytes(b"p\n\nq\n")
    return folder


def test_source_line_is_the_line_in_the_file(inbox: Path, tmp_path: Path) -> None:
    frame = _score(inbox, tmp_path).value
    rows = list(zip(frame["source_file"], frame["source_line"], frame["text"], strict=True))
    assert rows == [
        ("a.csv", 2, "first"),
        ("a.csv", 3, "two\nlines"),
        ("a.csv", 6, "third"),
        ("b.jsonl", 1, "x"),
        ("b.jsonl", 2, ""),  # a blank JSONL line is scored as empty text, as in .txt, not dropped
        ("b.jsonl", 3, "y"),
        ("c.txt", 1, "p"),
        ("c.txt", 2, ""),
        ("c.txt", 3, "q"),
    ]


def test_data_version_hashes_the_bytes_that_were_scored(inbox: Path, tmp_path: Path) -> None:
    scored_copy = Path(shutil.copytree(inbox, tmp_path / "as-scored"))
    output = _score(inbox, tmp_path, overwrite=str(inbox / "c.txt"))
    assert (inbox / "c.txt").read_bytes() == CHANGED  # the inbox did change during scoring
    assert output.value["text"].tolist()[-3:] == ["p", "", "q"]
    assert output.data_version == dg.DataVersion(f"{inbox_version(scored_copy)}-stub-1")
    # The sensor compares the same hash, so the changed file gets a run of its own.
    assert inbox_version(inbox) != inbox_version(scored_copy)


def test_a_malformed_row_fails_the_run_naming_file_and_line(inbox: Path, tmp_path: Path) -> None:
    (inbox / "d.csv").write_bytes(b"id,text\n1,hello, world\n")
    with pytest.raises(dg.Failure, match=r"d\.csv: line 2 has 3 fields, the header 2"):
        _score(inbox, tmp_path)


def test_a_link_out_of_the_inbox_is_not_read_and_the_skip_is_recorded(tmp_path):
    """A .txt link in the inbox to a file elsewhere (credentials, /proc/self/environ) must not be scored
    and stored line by line in the predictions: links are refused when they lead outside, as ingest does."""
    secret = tmp_path / "elsewhere" / "credentials.txt"
    secret.parent.mkdir()
    secret.write_text("aws_secret_access_key = hunter2\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mail.txt").write_text("where is my parcel\n")
    (inbox / "leak.txt").symlink_to(secret)
    (inbox / "inside.txt").symlink_to(inbox / "mail.txt")
    output = _score(inbox, tmp_path)
    assert list(output.value["text"]) == ["where is my parcel"]
    skipped = output.metadata["skipped_files"].value
    assert "leak.txt: symbolic link to" in skipped and "outside the inbox; refused" in skipped
    assert "the same file as" in skipped  # the link inside the inbox is read once, under one name
    version = inbox_version(inbox)
    secret.write_text("another secret\n")
    assert inbox_version(inbox) == version
