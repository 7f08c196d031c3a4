"""fine_tuned_model: Hugging Face Trainer fine-tuning, launched through Dagster Pipes."""

from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import dagster as dg
from ft_serving.locations import private_temp_dir

from ft_assets.assets.metadata import md_table
from ft_assets.tokenizing.versioning import combine, content_name
from ft_assets.training.checkpoints import drop_checkpoints
from ft_assets.training.config import TrainConfig
from ft_assets.training.entrypoint import OUTCOME_MESSAGE
from ft_assets.training.job import TrainJob
from ft_resources.accelerator import AcceleratorResource
from ft_resources.artifact_store import ArtifactStore
from ft_resources.base_model import BaseModelSource
from ft_resources.k8s import gpu_op_tags
from ft_resources.training_launcher import TrainingLauncher


def training_key(tokenized: dict[str, Any], config: TrainConfig, base_fingerprint: str) -> str:
    """What goes into a training run: the data, the config and the base model. It names the run's
    checkpoints, so a retried run resumes. The model version adds the saved weights (content_name)."""
    return combine(tokenized["version"], config.model_dump(), base_fingerprint)


def checkpoint_dir_for(store: ArtifactStore, key: str) -> Path:
    if store.is_local:
        return Path(store.uri("checkpoints", key))
    # Trainer needs a real folder; remote roots checkpoint into this machine's temporary folder
    # (asking the store for a local copy of "checkpoints" would download a folder that does not exist).
    return private_temp_dir("ft-checkpoints") / key


@dg.asset(
    group_name="training",
    kinds={"pytorch", "huggingface"},
    code_version="3",  # 3: the model version names the saved weights, not only the inputs
    pool="gpu",
    op_tags=gpu_op_tags(),
    retry_policy=dg.RetryPolicy(max_retries=2, delay=15),
    description=(
        "The base model fine-tuned for sequence classification on tokenized_dataset's train split with the "
        "Hugging Face Trainer: dynamic padding, length-grouped batches, evaluation every epoch on the "
        "validation split, early stopping, the final weights kept (keep_model). A killed run resumes from "
        "its last checkpoint. Saved as safetensors + tokenizer + label map. The method (head_only, partial, "
        "full, lora) is one config switch; the training_launcher resource runs it in a subprocess, under "
        "torchrun or in a Kubernetes GPU pod, reporting back through Dagster Pipes."
    ),
)
def fine_tuned_model(
    context: dg.AssetExecutionContext,
    config: TrainConfig,
    tokenized_dataset: dict[str, Any],
    base_model: BaseModelSource,
    accelerator: AcceleratorResource,
    artifact_store: ArtifactStore,
    training_launcher: TrainingLauncher,
) -> dg.Output[dict[str, Any]]:
    fingerprint = base_model.fingerprint()
    if fingerprint != tokenized_dataset["base_model_fingerprint"]:
        raise dg.Failure(
            f"tokenized_dataset was built with base model {tokenized_dataset['base_model']}, "
            f"but the base model is now {base_model.name_or_path}; re-materialize tokenized_dataset first."
        )
    key = training_key(tokenized_dataset, config, fingerprint)
    checkpoints = checkpoint_dir_for(artifact_store, key)
    # The model version is the training key and every byte of the saved model. Two runs of one key can
    # end with other weights (another device or precision, a time budget that stops at another step, GPU
    # kernels that are not bit-reproducible): each set of weights is its own version, the same bytes keep it.
    with artifact_store.write_named_dir("fine_tuned_model", partial(content_name, key)) as written:
        job = TrainJob(
            dataset_path=str(artifact_store.local_path(tokenized_dataset["path"])),
            label_names=tokenized_dataset["label_names"],
            base_model=base_model.resolve(),
            config=config.model_dump(),
            accelerator=accelerator.model_dump(),
            output_dir=str(written.path),
            checkpoint_dir=str(checkpoints),
        )
        invocation = training_launcher.run(context, job)
        outcome = _outcome(invocation)
        reported = invocation.get_materialize_result().metadata or {}
    rel = written.rel
    version = PurePosixPath(rel).name
    # The checkpoints exist to survive a crash; once the model is published they are dead weight.
    try:
        drop_checkpoints(checkpoints)
    except OSError as error:  # the model is published; a later write's sweep removes what is left
        context.log.warning(f"could not delete the checkpoints in {checkpoints}: {error}")
    manifest = {
        # Masked: the manifest is stored and shown; the store maps it back onto the real root to read.
        "path": artifact_store.display(rel),
        "model_version": version,
        "training_key": key,
        "data_version": tokenized_dataset["data_version"],
        "tokenized_version": tokenized_dataset["version"],
        # Named so that retention keeps the model's training data while the model is kept, and evaluation
        # on a newer dataset can fit its baseline on, and keep out of the test split, what the model saw.
        "dataset_path": tokenized_dataset["path"],
        "base_model": tokenized_dataset["base_model"],
        "base_model_fingerprint": fingerprint,
        "label_names": tokenized_dataset["label_names"],
        # The data owns max_length (tokenized_dataset's config); export writes it into bundle.json.
        "max_length": tokenized_dataset["max_length"],
        "config": config.model_dump(),
        "training": outcome["summary"],
        "fine_tuning": outcome["fine_tuning"],
        "log_history": outcome["log_history"],
    }
    evaluations = [
        {k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()} for e in outcome["evaluations"]
    ]
    return dg.Output(
        manifest,
        # The weights are the data: a new model (another config from the Launchpad, say) must look changed
        # to evaluation_report and onnx_model's automation, and the same bytes unchanged.
        data_version=dg.DataVersion(version),
        metadata={
            **reported,
            "model_version": dg.MetadataValue.text(version),
            "training_key": dg.MetadataValue.text(key),
            "model_path": dg.MetadataValue.path(manifest["path"]),
            "validation_per_epoch": md_table(evaluations, list(evaluations[0]) if evaluations else []),
            "data_version": dg.MetadataValue.text(tokenized_dataset["data_version"]),
        },
    )


def _outcome(invocation: dg.PipesClientCompletedInvocation) -> dict[str, Any]:
    messages = [m for m in invocation.get_custom_messages() if m.get("type") == OUTCOME_MESSAGE]
    if not messages:
        raise dg.Failure("the training process ended without reporting its outcome through Pipes")
    return messages[-1]
