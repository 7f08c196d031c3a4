"""train_classifier: fine-tune a sequence classifier with resume, early stopping and an atomic export."""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import datasets
import torch
import torch.distributed as dist
from transformers import (
    DataCollatorWithPadding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PrinterCallback,
    TrainerCallback,
    TrainerState,
    default_data_collator,
)

from ft_assets.training.arguments import build_training_arguments
from ft_assets.training.budget import TimeBudget
from ft_assets.training.callbacks import (
    ChecksumCallback,
    EarlyStopping,
    ProgressCallback,
    TrainCounters,
    quiet_progress_bars,
)
from ft_assets.training.checkpoints import ResumeDecision, checkpoint_step, choose_resume_checkpoint
from ft_assets.training.classifier_trainer import ClassifierTrainer
from ft_assets.training.config import TrainConfig
from ft_assets.training.data import prepare_split
from ft_assets.training.export import save_model_dir
from ft_assets.training.fast_dropout import use_fast_dropout
from ft_assets.training.features import FeatureHead, cache_head_inputs, head_of
from ft_assets.training.methods import MethodSummary, apply_method, plain_model, summarize
from ft_assets.training.metrics import compute_classification_metrics, inverse_frequency_weights
from ft_assets.training.model import load_classifier
from ft_assets.training.outcome import TrainOutcome
from ft_assets.training.probe import fit_head
from ft_assets.training.word_rows import train_used_rows
from ft_resources.accelerator import DeviceSettings


def train_classifier(
    dataset: datasets.DatasetDict,
    label_names: list[str],
    base_model: str | Path,
    config: TrainConfig,
    device: DeviceSettings,
    output_dir: Path,
    checkpoint_dir: Path,
    log: Callable[[str], None],
    *,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainOutcome:
    """Fine-tune ``base_model`` on ``dataset["train"]``, select on ``dataset["validation"]``.

    ``checkpoint_dir`` must be specific to (data version, config, base model): a checkpoint found
    there is resumed, not restarted; one saved where training had stopped (early stopping, the last epoch
    or step, the time budget) ends the run there, as the crashed attempt would have ended it.
    ``output_dir`` (absent or empty) receives the best model as a self-contained Hugging Face directory,
    written by rank 0 only when torchrun runs several ranks.
    ``callbacks`` are extra Trainer callbacks (tests use one to interrupt).
    """
    started = time.perf_counter()
    with quiet_progress_bars():
        resume = choose_resume_checkpoint(checkpoint_dir)
        resume_from, resumed_from_step = resume.checkpoint, resume.step
        setup = _build_trainer(
            dataset,
            label_names,
            base_model,
            config,
            device,
            checkpoint_dir,
            log,
            callbacks,
            resume=resume,
        )
        trainer = setup.trainer
        log(resume.message)
        train_started = time.perf_counter()
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from is not None else None)
        counters = trainer.counters
        train_seconds = max(time.perf_counter() - train_started - counters.overhead_seconds, 1e-9)
        # With keep_model=best, load_best_model_at_end has already swapped the best checkpoint's weights
        # into trainer.model (for cached features: into the model's own head module, which FeatureHead
        # wraps); with keep_model=final the weights are those of the last step.
        trained = setup.model if setup.cached_features else trainer.model
        digests = _rank_digests(trained) if trainer.args.world_size > 1 else []
        if trainer.is_world_process_zero():
            save_model_dir(plain_model(trained), setup.tokenizer, output_dir)

    state = trainer.state
    best_step = checkpoint_step(Path(state.best_model_checkpoint)) if state.best_model_checkpoint else None
    kept_step = best_step if config.keep_model == "best" else state.global_step
    tokens = int(counters.tokens.item())
    outcome = TrainOutcome(
        model_dir=Path(output_dir),
        metric_name=config.metric_for_best_model,
        best_metric=state.best_metric,
        best_step=best_step,
        best_epoch=_epoch_at(state, best_step),
        keep_model=config.keep_model,
        kept_step=kept_step,
        kept_metric=_metric_at(state, kept_step, config.metric_for_best_model),
        epochs_completed=float(state.epoch or 0.0),
        global_step=state.global_step,
        resumed_from_step=resumed_from_step,
        resume=resume.message,
        train_seconds=train_seconds,
        wall_seconds=time.perf_counter() - started,
        train_samples=counters.samples,
        train_tokens=tokens,
        train_samples_per_second=counters.samples / train_seconds,
        train_tokens_per_second=tokens / train_seconds,
        log_history=[dict(entry) for entry in state.log_history],
        device=device.device,
        precision=device.precision,
        fine_tuning=setup.method.as_dict(),
        feature_cache_seconds=setup.feature_cache_seconds,
        linear_probe_seconds=setup.linear_probe_seconds,
        world_size=trainer.args.world_size,
        peak_memory_mb=_peak_memory_mb(device),
        device_name=device.device_name,
        rank_digests=digests,
    )
    log(
        f"done: step {outcome.global_step}, epoch {outcome.epochs_completed:.2f}, best {outcome.metric_name} "
        f"{outcome.best_metric} at step {best_step}; kept the {config.keep_model} weights (step {kept_step},"
        f" {outcome.metric_name} {outcome.kept_metric}), {outcome.train_samples_per_second:.1f} samples/s"
        f" per process; model in {output_dir}"
    )
    return outcome


@dataclass(frozen=True)
class _Setup:
    trainer: ClassifierTrainer
    model: PreTrainedModel  # the full classifier, whatever module the Trainer trains
    tokenizer: PreTrainedTokenizerBase
    method: MethodSummary
    cached_features: bool
    feature_cache_seconds: float
    linear_probe_seconds: float


def _build_trainer(
    dataset: datasets.DatasetDict,
    label_names: list[str],
    base_model: str | Path,
    config: TrainConfig,
    device: DeviceSettings,
    checkpoint_dir: Path,
    log: Callable[[str], None],
    callbacks: Sequence[TrainerCallback],
    *,
    resume: ResumeDecision,
) -> _Setup:
    num_labels = len(label_names)
    train = prepare_split(dataset, "train", num_labels)
    validation = prepare_split(dataset, "validation", num_labels)
    log(
        f"training on {device.device_name} ({device.device}, {device.precision}): "
        f"{len(train.dataset)} train / {len(validation.dataset)} validation examples, {num_labels} labels"
    )
    model, tokenizer = load_classifier(base_model, label_names, config.seed, config.pooling)
    probe_seconds = 0.0
    # A resumed run loads its head from the checkpoint, so a probe fit would be thrown away.
    if config.fits_linear_probe and resume.checkpoint is None:
        probe_started = time.perf_counter()
        fit = fit_head(model, train, tokenizer, device, config.eval_batch_size, config.seed)
        probe_seconds = time.perf_counter() - probe_started
        log(
            f"linear probe: head fitted to the frozen encoder's features in {probe_seconds:.1f} s "
            f"(C={fit.strength:g}, train accuracy {fit.train_accuracy:.3f} on {fit.rows:,} of "
            f"{len(train.labels):,} train rows)"
        )
    trained, method = apply_method(model, config)
    used = train_used_rows(model, train)
    if used is not None:
        method = replace(
            method,
            trainable_parameters=method.trainable_parameters - used.untouched_parameters,
            detail=f"{method.detail}; of the word table, the {len(used.row_ids):,} rows of tokens in the "
            "train split",
        )
    if config.fits_linear_probe:
        method = replace(method, detail=f"{method.detail}; head fitted first by a linear probe")
    cached = config.method == "head_only" and config.cache_features
    cache_seconds = 0.0
    # Multiples of 8 let tensor cores engage on GPU; on CPU they are only extra padding.
    collator: Callable[..., Any] = DataCollatorWithPadding(
        tokenizer, pad_to_multiple_of=8 if device.device == "cuda" else None
    )
    train_rows, validation_rows = train.dataset, validation.dataset
    if cached:
        cache_started = time.perf_counter()
        train_rows, validation_rows = (
            cache_head_inputs(model, split, tokenizer, device, config.eval_batch_size)
            for split in (train, validation)
        )
        cache_seconds = time.perf_counter() - cache_started
        trained, collator = FeatureHead(head_of(model)), default_data_collator
        method = summarize(
            trained, method.method, f"{method.detail}; encoder outputs cached once", method.pooling
        )
        log(f"cached the frozen encoder's outputs for train and validation in {cache_seconds:.1f} s")
    if device.device == "cpu":
        swapped = use_fast_dropout(model, trained)
        log(f"dropout: {swapped} modules draw their CPU masks from 16-bit numbers (fast_dropout)")
    log(
        f"method {method.method}: {method.trainable_parameters:,} of {method.total_parameters:,} "
        f"parameters train ({method.detail})"
    )
    weights = None
    if config.class_weights:
        weights = torch.tensor(inverse_frequency_weights(train.labels, num_labels), dtype=torch.float32)
        shown = ", ".join(f"{name}={w:.3f}" for name, w in zip(label_names, weights.tolist(), strict=True))
        log(f"class weights: {shown}")

    counters = TrainCounters()
    trainer_callbacks: list[TrainerCallback] = [ProgressCallback(log, counters)]
    if config.max_train_seconds is not None:
        # Before ChecksumCallback: the budget's file in a checkpoint must be in its manifest.
        trainer_callbacks.append(TimeBudget(config.max_train_seconds, log, resume.checkpoint))
    trainer_callbacks += [ChecksumCallback(), *callbacks]
    if config.early_stopping_patience > 0:
        trainer_callbacks.append(EarlyStopping(early_stopping_patience=config.early_stopping_patience))
    trainer = ClassifierTrainer(
        model=trained,
        args=build_training_arguments(config, device, checkpoint_dir),
        train_dataset=train_rows,
        eval_dataset=validation_rows,
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=compute_classification_metrics,
        callbacks=trainer_callbacks,
        class_weights=weights,
        train_lengths=train.lengths,
        eval_lengths=validation.lengths,
        counters=counters,
        planned_warmup_ratio=config.warmup_ratio if config.max_train_seconds is not None else None,
        resumes_finished_run=resume.finished,
    )
    # With tqdm disabled the Trainer prints every log dict to stdout; ProgressCallback reports instead.
    trainer.remove_callback(PrinterCallback)
    return _Setup(trainer, model, tokenizer, method, cached, cache_seconds, probe_seconds)


def _rank_digests(model: torch.nn.Module) -> list[str]:
    """Every rank's hash of its parameters, gathered on all ranks: DDP must have kept them identical."""
    digest = hashlib.sha256()
    for name, parameter in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(parameter.detach().float().cpu().numpy().tobytes())
    gathered: list[str | None] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, digest.hexdigest()[:16])
    return [str(item) for item in gathered]


def _peak_memory_mb(device: DeviceSettings) -> float:
    if device.device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _evaluation_at(state: TrainerState, step: int | None) -> dict[str, Any]:
    """The validation log entry at ``step``; empty when no evaluation ran there."""
    entries = [entry for entry in state.log_history if entry.get("step") == step and "eval_loss" in entry]
    return entries[-1] if entries else {}


def _metric_at(state: TrainerState, step: int | None, metric: str) -> float | None:
    value = _evaluation_at(state, step).get(f"eval_{metric}")
    return None if value is None else float(value)


def _epoch_at(state: TrainerState, step: int | None) -> float | None:
    epoch = _evaluation_at(state, step).get("epoch")
    return None if epoch is None else float(epoch)
