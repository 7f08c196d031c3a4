"""fine_tuned_model: Hugging Face Trainer fine-tuning on the accelerator resource."""

import shutil
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
from datasets import load_from_disk

from ft_assets.assets.metadata import md_table
from ft_assets.tokenizing.versioning import combine
from ft_assets.training.config import TrainConfig
from ft_assets.training.trainer import train_classifier
from ft_resources.accelerator import AcceleratorResource
from ft_resources.artifact_store import ArtifactStore
from ft_resources.base_model import BaseModelSource
from ft_resources.k8s import gpu_op_tags


def model_version(tokenized: dict[str, Any], config: TrainConfig, base_fingerprint: str) -> str:
    return combine(tokenized["version"], config.model_dump(), base_fingerprint)


def checkpoint_dir_for(store: ArtifactStore, version: str) -> Path:
    if store.is_local:
        return Path(store.uri("checkpoints", version))
    # Trainer needs a real folder; remote roots checkpoint into this machine's temporary folder
    # (asking the store for a local copy of "checkpoints" would download a folder that does not exist).
    return Path(tempfile.gettempdir()) / "ft-checkpoints" / version


@dg.asset(
    group_name="training",
    kinds={"pytorch", "huggingface"},
    code_version="1",
    pool="gpu",
    op_tags=gpu_op_tags(),
    retry_policy=dg.RetryPolicy(max_retries=2, delay=15),
    description=(
        "The base model fine-tuned for sequence classification on tokenized_dataset's train split with the "
        "Hugging Face Trainer: dynamic padding, length-grouped batches, evaluation every epoch on the "
        "validation split, early stopping and the best checkpoint kept. A killed run resumes from its last "
        "checkpoint. Saved as safetensors + tokenizer + label map."
    ),
)
def fine_tuned_model(
    context: dg.AssetExecutionContext,
    config: TrainConfig,
    tokenized_dataset: dict[str, Any],
    base_model: BaseModelSource,
    accelerator: AcceleratorResource,
    artifact_store: ArtifactStore,
) -> dg.Output[dict[str, Any]]:
    device = accelerator.resolve()
    fingerprint = base_model.fingerprint()
    if fingerprint != tokenized_dataset["base_model_fingerprint"]:
        raise dg.Failure(
            f"tokenized_dataset was built with base model {tokenized_dataset['base_model']}, "
            f"but the base model is now {base_model.name_or_path}; re-materialize tokenized_dataset first."
        )
    version = model_version(tokenized_dataset, config, fingerprint)
    dataset = load_from_disk(str(artifact_store.local_path(tokenized_dataset["path"])))
    checkpoints = checkpoint_dir_for(artifact_store, version)
    rel = f"fine_tuned_model/{version}"
    with artifact_store.write_dir(rel) as staging:
        outcome = train_classifier(
            dataset,
            tokenized_dataset["label_names"],
            base_model.resolve(),
            config,
            device,
            output_dir=staging / "model",
            checkpoint_dir=checkpoints,
            log=context.log.info,
        )
        for item in (staging / "model").iterdir():
            item.replace(staging / item.name)
        (staging / "model").rmdir()
    # The checkpoints exist to survive a crash; once the model is published they are dead weight.
    shutil.rmtree(checkpoints, ignore_errors=True)
    manifest = {
        "path": artifact_store.uri(rel),
        "model_version": version,
        "data_version": tokenized_dataset["data_version"],
        "tokenized_version": tokenized_dataset["version"],
        "base_model": tokenized_dataset["base_model"],
        "label_names": tokenized_dataset["label_names"],
        # The data owns max_length (tokenized_dataset's config); export writes it into bundle.json.
        "max_length": tokenized_dataset["max_length"],
        "config": config.model_dump(),
        "training": {k: v for k, v in outcome.summary().items() if k != "model_dir"},
        "log_history": outcome.log_history,
    }
    evaluations = [
        {k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()} for e in outcome.evaluations
    ]
    return dg.Output(
        manifest,
        metadata={
            "model_version": dg.MetadataValue.text(version),
            "model_path": dg.MetadataValue.path(manifest["path"]),
            "device": dg.MetadataValue.text(device.device_name),
            "precision": dg.MetadataValue.text(device.precision),
            "train_seconds": dg.MetadataValue.float(round(outcome.train_seconds, 1)),
            "samples_per_second": dg.MetadataValue.float(round(outcome.train_samples_per_second, 2)),
            "tokens_per_second": dg.MetadataValue.float(round(outcome.train_tokens_per_second, 1)),
            "epochs_completed": dg.MetadataValue.float(round(outcome.epochs_completed, 2)),
            "global_step": dg.MetadataValue.int(outcome.global_step),
            f"best_{outcome.metric_name}": dg.MetadataValue.float(
                round(float(outcome.best_metric or 0.0), 4)
            ),
            "resumed_from_step": dg.MetadataValue.int(outcome.resumed_from_step or 0),
            "validation_per_epoch": md_table(evaluations, list(evaluations[0]) if evaluations else []),
            "data_version": dg.MetadataValue.text(tokenized_dataset["data_version"]),
        },
    )
