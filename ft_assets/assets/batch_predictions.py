"""batch_predictions: the production bundle applied to unlabeled files in the inbox."""

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from ft_serving.predict_cli import FILE_SUFFIXES, InputError, parse_input, read_input_bytes
from ft_serving.production import POINTER_PATH, ProductionError, ProductionPointer
from ft_serving.sync import SyncError
from pydantic import Field

from ft_assets.assets.metadata import class_counts, counts_md
from ft_assets.ingest.discovery import Folder, data_version, digest, scan
from ft_assets.promotion.registry import Registry
from ft_resources import settings
from ft_resources.artifact_store import ArtifactStore
from ft_resources.classifier_resource import ClassifierResource


class InboxConfig(dg.Config):
    inbox_dir: str = Field(
        default="",
        description="Unlabeled .txt/.csv/.jsonl files; empty: $FT_INBOX_DIR, else data/inbox.",
    )


def inbox_scan(folder: Path) -> Folder:
    """The inbox's files, by the data folder's rules: a link leading out of the inbox is refused, and
    what is not read is listed with the reason (a missing inbox holds no files)."""
    return scan(folder, FILE_SUFFIXES, kind="inbox", required=False)


def inbox_version(folder: Path) -> str:
    """The version of the inbox as it is now: what the sensor compares with the last scored version."""
    return data_version({file.name: digest(file.path.read_bytes()) for file in inbox_scan(folder).files})


def verified_production_bundle(
    artifact_store: ArtifactStore, production_model: dict[str, Any]
) -> tuple[ProductionPointer, Path]:
    """The production pointer as it is now and a verified local copy of the bundle it names.

    Read at run time, not taken from production_model's output: `make rollback` switches the pointer
    without materializing production_model, and what production serves is what the pointer names.
    """
    try:
        pointer = Registry(artifact_store).pointer()
    except ProductionError as error:
        raise dg.Failure(description=f"cannot read the production model: {error}") from None
    if pointer is None:
        decision = production_model.get("reason")
        raise dg.Failure(
            description=(
                f"no production model yet: {artifact_store.display(POINTER_PATH)} does not exist"
                + (f" (production_model's last decision: {decision})" if decision else "")
                + "; batch_predictions scores with a promoted model only. Promote one (materialize "
                "production_model with a model that passes the gate) or restore one with "
                "`make rollback VERSION=...`."
            )
        )
    try:
        return pointer, artifact_store.verified_bundle(pointer)
    except SyncError as error:
        raise dg.Failure(description=f"cannot score with the production bundle: {error}") from None


@dg.asset(
    group_name="serving",
    kinds={"onnx", "parquet"},
    # 3: the bundle is the one registry/production.json names when the run starts (rollbacks included)
    # 4: the inbox is read by the data folder's rules: links out of it refused, skipped files listed
    code_version="4",
    description=(
        "Every text in the inbox folder (FT_INBOX_DIR, default data/inbox) scored by the production bundle "
        "that registry/production.json names when the run starts (so a `make rollback` is honoured), "
        "without torch: source file and line (where the text starts in the file), text, label, score, one "
        "probability column per class and the model version, as Parquet. The data version is the hash of "
        "the bytes that were scored plus the model version that scored them."
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
    scored: dict[str, str] = {}
    found = inbox_scan(folder)
    for skip in found.skipped:
        context.log.warning(f"inbox: {skip}")
    try:
        for file in found.files:
            # Each file is read once: the rows and the data version come from the same bytes, so a file
            # rewritten while the model runs cannot be recorded under a version it was not scored at.
            data = read_input_bytes(file.path)
            scored[file.name] = digest(data)
            rows += [
                {"source_file": file.name, "source_line": item.line, "text": item.text}
                for item in parse_input(data, file.path)
            ]
    except InputError as exc:
        raise dg.Failure(description=str(exc)) from exc
    version = data_version(scored)
    pointer, bundle_dir = verified_production_bundle(artifact_store, production_model)
    recorded = production_model.get("production_version")
    if recorded and recorded != pointer.model_version:
        context.log.warning(
            f"production_model last recorded model {recorded}, but {POINTER_PATH} now names model "
            f"{pointer.model_version} (a rollback or a later promotion); scoring with {pointer.model_version}"
        )
    model = classifier.load(bundle_dir)
    if model.model_version != pointer.model_version:
        raise dg.Failure(
            description=(
                f"{POINTER_PATH} names model {pointer.model_version}, but the bundle "
                f"{artifact_store.display(pointer.bundle)} holds model {model.model_version}"
            )
        )
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
            "skipped_files": dg.MetadataValue.md("\n".join(f"- {skip}" for skip in found.skipped) or "none"),
            "predicted_labels": counts_md(class_counts(frame))
            if len(frame)
            else dg.MetadataValue.md("inbox empty"),
            "model_version": dg.MetadataValue.text(str(model.model_version)),
            "production_pointer": dg.MetadataValue.json(
                {
                    "model_version": pointer.model_version,
                    "bundle": pointer.bundle,
                    "promoted_at": pointer.promoted_at,
                }
            ),
            "bundle_path": dg.MetadataValue.path(artifact_store.display(pointer.bundle)),
            "inbox_dir": dg.MetadataValue.path(str(folder.absolute())),
        },
    )
