"""batch_predictions: the production bundle applied to unlabeled files in the inbox."""

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from ft_serving.predict_cli import InputError, parse_input, read_input_bytes
from pydantic import Field

from ft_assets.assets.metadata import class_counts, counts_md
from ft_resources import settings
from ft_resources.artifact_store import ArtifactStore
from ft_resources.classifier_resource import ClassifierResource

INBOX_SUFFIXES = (".txt", ".csv", ".jsonl")


class InboxConfig(dg.Config):
    inbox_dir: str = Field(
        default="",
        description="Unlabeled .txt/.csv/.jsonl files; empty: $FT_INBOX_DIR, else data/inbox.",
    )


def inbox_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in INBOX_SUFFIXES)


def files_version(digests: Iterable[tuple[str, bytes]]) -> str:
    """Hash of (name relative to the inbox, SHA-256 of its bytes) pairs, in inbox_files' order."""
    combined = hashlib.sha256()
    for name, digest in digests:
        combined.update(name.encode())
        combined.update(digest)
    return combined.hexdigest()[:16]


def inbox_version(folder: Path) -> str:
    """The version of the inbox as it is now: what the sensor compares with the last scored version."""
    return files_version(
        (path.relative_to(folder).as_posix(), hashlib.sha256(path.read_bytes()).digest())
        for path in inbox_files(folder)
    )


@dg.asset(
    group_name="serving",
    kinds={"onnx", "parquet"},
    code_version="2",  # 2: source_line is the line in the file; blank JSONL lines are scored, not dropped
    description=(
        "Every text in the inbox folder (FT_INBOX_DIR, default data/inbox) scored by the production bundle "
        "that production_model recorded, without torch: source file and line (where the text starts in "
        "the file), text, label, score, one probability column per class and the model version, as "
        "Parquet. The data version hashes the bytes that were scored."
    ),
)
def batch_predictions(
    context: dg.AssetExecutionContext,
    config: InboxConfig,
    production_model: dict[str, Any],
    classifier: ClassifierResource,
    artifact_store: ArtifactStore,
) -> dg.Output[pd.DataFrame]:
    folder = Path(config.inbox_dir or settings.inbox_dir())
    rows: list[dict[str, Any]] = []
    scored: list[tuple[str, bytes]] = []
    try:
        for path in inbox_files(folder):
            # Each file is read once: the rows and the data version come from the same bytes, so a file
            # rewritten while the model runs cannot be recorded under a version it was not scored at.
            source, data = path.relative_to(folder).as_posix(), read_input_bytes(path)
            scored.append((source, hashlib.sha256(data).digest()))
            rows += [
                {"source_file": source, "source_line": item.line, "text": item.text}
                for item in parse_input(data, path)
            ]
    except InputError as exc:
        raise dg.Failure(description=str(exc)) from exc
    version = files_version(scored)
    model = classifier.load(artifact_store.local_path(production_model["path"]))
    predictions = model.predict([r["text"] for r in rows], batch_size=classifier.batch_size)
    frame = pd.DataFrame(rows, columns=["source_file", "source_line", "text"])
    frame["label"] = [p.label for p in predictions]
    frame["score"] = [p.score for p in predictions]
    for label in model.labels:
        frame[f"p_{label}"] = [p.probabilities[label] for p in predictions]
    frame["truncated"] = [p.truncated for p in predictions]
    frame["model_version"] = model.model_version
    context.log.info(f"scored {len(frame):,} inbox texts with model {model.model_version}")
    return dg.Output(
        frame,
        data_version=dg.DataVersion(f"{version}-{model.model_version}"),
        metadata={
            "row_count": dg.MetadataValue.int(len(frame)),
            "files": dg.MetadataValue.int(frame["source_file"].nunique()),
            "predicted_labels": counts_md(class_counts(frame))
            if len(frame)
            else dg.MetadataValue.md("inbox empty"),
            "model_version": dg.MetadataValue.text(str(model.model_version)),
            "inbox_dir": dg.MetadataValue.path(str(folder.absolute())),
        },
    )
