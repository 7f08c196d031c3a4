"""tokenized_dataset: the splits as a Hugging Face DatasetDict (Arrow), unpadded."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from ft_assets.splitting.hashing import SPLITS
from ft_assets.tokenizing.dataset import build_dataset_dict
from ft_assets.tokenizing.encode import label_order
from ft_assets.tokenizing.leakage import find_leakage
from ft_assets.tokenizing.versioning import combine, frame_version
from ft_resources.artifact_store import ArtifactStore, FolderState
from ft_resources.base_model import BaseModelSource


class TokenizeConfig(dg.Config):
    # The one max_length: training, evaluation, export (bundle.json) and serving all take it from here.
    max_length: int = Field(
        default=128,
        ge=8,
        le=8192,
        description="Tokens per text, special tokens included; longer texts are truncated to this many "
        "for training, evaluation and serving alike (the bundle's bundle.json records it).",
    )


@dg.asset(
    group_name="data",
    kinds={"huggingface", "arrow"},
    code_version="1",
    description=(
        "dataset_splits tokenized in batch with the base model's fast tokenizer, truncated to max_length "
        "and not padded (batches are padded dynamically at training time); saved as a DatasetDict in Arrow."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "held_out_rows_unseen_in_train",
            asset="tokenized_dataset",
            description=(
                "Warns when validation or test rows reach the model as exactly the token ids of a train "
                "row (texts that differ only in accents, spacing around punctuation, or after max_length): "
                "those rows score memory, not generalisation. Warn level: the split stays as it is."
            ),
        )
    ],
)
def tokenized_dataset(
    context: dg.AssetExecutionContext,
    config: TokenizeConfig,
    dataset_splits: pd.DataFrame,
    base_model: BaseModelSource,
    artifact_store: ArtifactStore,
) -> Iterator[dg.Output[dict[str, Any]] | dg.AssetCheckResult]:
    tokenizer = base_model.load_tokenizer()
    label_names = label_order(dataset_splits["label"].astype(str).tolist())
    dataset, lengths = build_dataset_dict(dataset_splits, tokenizer, label_names, config.max_length)
    data_version = frame_version(dataset_splits, ["text", "label", "split"])
    # Hashes model files, so compute it once for both the version and the manifest.
    fingerprint = base_model.fingerprint()
    version = combine(data_version, fingerprint, config.max_length)
    rel = f"tokenized_dataset/{version}"
    # Skipped only when the whole folder was published: on an object store dataset_dict.json may land
    # before the Arrow shards, so a run killed mid-upload leaves a folder the next run must rewrite
    # (and one uploaded before the store's completion markers is rewritten once, to be sure of it).
    if artifact_store.folder_state(rel) is not FolderState.COMPLETE:
        with artifact_store.write_dir(rel) as staging:
            dataset.save_to_disk(str(staging))
    truncated = float((lengths > config.max_length).mean()) if len(lengths) else 0.0
    percentiles = {f"p{q}": int(np.percentile(lengths, q)) for q in (50, 90, 95, 99)} if len(lengths) else {}
    manifest = {
        # Masked: the manifest is stored and shown; the store maps it back onto the real root to read.
        "path": artifact_store.display(rel),
        "version": version,
        "data_version": data_version,
        "label_names": label_names,
        "max_length": config.max_length,
        "truncation_side": tokenizer.truncation_side,
        "base_model": base_model.name_or_path,
        "base_model_fingerprint": fingerprint,
        "rows": {split: len(dataset[split]) for split in SPLITS},
    }
    context.log.info(f"tokenized {len(lengths):,} texts; {truncated:.2%} truncated at {config.max_length}")
    yield dg.Output(
        manifest,
        metadata={
            "dataset_path": dg.MetadataValue.path(manifest["path"]),
            "token_length_percentiles": dg.MetadataValue.json({**percentiles, "max": int(lengths.max())}),
            "truncation_rate": dg.MetadataValue.float(round(truncated, 4)),
            "max_length": dg.MetadataValue.int(config.max_length),
            "labels": dg.MetadataValue.json(label_names),
            "rows_per_split": dg.MetadataValue.json(manifest["rows"]),
            "data_version": dg.MetadataValue.text(data_version),
        },
    )
    leakage = find_leakage(dataset)
    if leakage.total:
        context.log.warning(f"{leakage.total} held-out rows have a train row's token ids: {leakage.rows}")
    yield dg.AssetCheckResult(
        check_name="held_out_rows_unseen_in_train",
        passed=leakage.total == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rows_with_train_token_ids": dg.MetadataValue.json(leakage.rows),
            "examples": dg.MetadataValue.json(leakage.examples),
        },
    )
