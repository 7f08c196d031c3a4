"""Maps TrainConfig + DeviceSettings onto transformers 5 TrainingArguments."""

from __future__ import annotations

import os
from pathlib import Path

from transformers import TrainingArguments

from ft_assets.training.config import TrainConfig
from ft_resources.accelerator import DeviceSettings

# Fraction of total steps between training-loss log lines (HF reads a float < 1 as a ratio).
LOGGING_RATIO = 0.1


def build_training_arguments(
    config: TrainConfig, device: DeviceSettings, checkpoint_dir: Path
) -> TrainingArguments:
    on_cuda = device.device == "cuda"
    return TrainingArguments(
        output_dir=str(checkpoint_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.peak_learning_rate,
        weight_decay=config.weight_decay,
        lr_scheduler_type="linear",
        # transformers 5 dropped warmup_ratio: a float below 1 is read as a fraction of total steps.
        warmup_steps=config.warmup_ratio if config.warmup_ratio > 0 else 0,
        # Batches of similar length waste little compute on padding; lengths come precomputed.
        train_sampling_strategy="group_by_length",
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="steps",
        logging_steps=LOGGING_RATIO,
        load_best_model_at_end=config.keep_model == "best",
        metric_for_best_model=config.metric_for_best_model,
        greater_is_better=config.greater_is_better,
        # The best checkpoint is always kept on top of this limit, so resume + best model both survive.
        save_total_limit=2,
        # Resumed runs continue the early-stopping patience count instead of starting it over.
        restore_callback_states_from_checkpoint=True,
        bf16=device.precision == "bf16",
        fp16=device.precision == "fp16",
        use_cpu=not on_cuda,
        dataloader_pin_memory=on_cuda,
        dataloader_num_workers=0,
        seed=config.seed,
        data_seed=config.seed,
        report_to=[],
        disable_tqdm=True,
        # Said outright: the Trainer infers it from forward(), which a PEFT wrapper or FeatureHead hides.
        label_names=["labels"],
        # Our loss is a per-batch mean; True would multiply it by the world size (2x loss on 2 ranks,
        # transformers issue 35078), corrupting early stopping and the best-checkpoint choice.
        average_tokens_across_devices=False,
        ddp_find_unused_parameters=False,
        # The models' buffers are constants (position ids, and the frozen word table of word_rows): sending
        # them from rank 0 before every forward would move the whole table each step.
        ddp_broadcast_buffers=False,
        ddp_backend=ddp_backend(device),
    )


def world_size() -> int:
    """Processes in this training job: torchrun sets WORLD_SIZE for every rank, a plain process has none."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def ddp_backend(device: DeviceSettings) -> str | None:
    """NCCL between GPUs, gloo between CPU processes; None for a single process, where forcing a
    backend breaks the Trainer's setup."""
    if world_size() <= 1:
        return None
    return "nccl" if device.device == "cuda" else "gloo"
