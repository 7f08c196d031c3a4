"""What limits accuracy and time-to-accuracy of MiniLM on CPU: training variants side by side.

Each variant fine-tunes the bundled MiniLM with the Hugging Face Trainer on a tuning split and evaluates
on a held-out slice at fixed step intervals, recording validation accuracy/macro F1 against training
seconds (forward, backward and optimizer only: evaluation time is excluded). Variants run one after the
other in one process, so compare them within one result file; `uptime` load is recorded per variant.

Data sets (never a test split: SST-2's dev set and BBC's test split are for the final measures only):
- sst2: `--sst2-train` sentences sampled from SST-2 train; the tuning slice is a hash-chosen part of train.
- sst2_long: the train rows of bench_sst2_quality's sample; the tuning slice is 1,000 other train phrases
  of 15 words or more, closer to the dev set's full sentences than the mostly short train phrases.
- bbc: BBC News headlines (benchmarks/bbc_data.py), train split; tuning slice = its validation split.
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from datasets import Dataset
from sklearn.metrics import accuracy_score, f1_score
from torch.nn import functional
from transformers import (
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from benchmarks.bbc_data import bbc_splits
from benchmarks.common import minilm_path, sst2, write_result
from ft_assets.splitting.hashing import assign_splits
from ft_assets.training.config import Pooling, TrainConfig
from ft_assets.training.data import PreparedSplit
from ft_assets.training.methods import apply_method
from ft_assets.training.model import load_classifier
from ft_assets.training.probe import MAX_ROWS, fit_head
from ft_resources.accelerator import AcceleratorResource


@dataclass(frozen=True)
class Variant:
    learning_rate: float = 1e-4
    bf16: bool = False
    batch_size: int = 32
    warmup: float = 0.06
    label_smoothing: float = 0.0
    layer_decay: float = 1.0  # 1.0 = one learning rate for every layer
    schedule: str = "linear"
    pooling: Pooling = "cls"  # cls: the stock [CLS] head; mean: ft_assets MeanPooledClassifier
    lora: bool = False  # LoRA r=8 on query/value (the product's defaults) instead of full fine-tuning
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    freeze_word_embeddings: bool = False  # the 30,522 x 384 input table, half of MiniLM's parameters
    average_last: int = 0  # also score the mean of the weights at the last N evaluations (LAWA)
    linear_probe: bool = False  # LP-FT: fit the head on the frozen encoder's features first
    # WiSE-FT: also score (1 - a) * starting weights + a * final weights for each a here
    interpolations: tuple[float, ...] = ()
    hidden_dropout: float | None = None  # every dropout but the attention probabilities'; None: the model's
    probe_every_row: bool = False  # the probe reads every train row instead of probe.MAX_ROWS of them
    # Model soup: also train from the same start (after any probe) with each of these seeds, and score
    # the mean of every run's final weights (seed 42's run included) as one model.
    soup_seeds: tuple[int, ...] = ()
    grouped_by_length: bool = True  # False: random batches, as a bare Trainer draws them
    # R-Drop: every batch twice through the model (two dropout draws), loss + this x their symmetric KL
    consistency: float = 0.0
    weight_decay: float = 0.01  # AdamW's decoupled decay; TrainConfig's default


VARIANTS = {
    "lr5e-5_fp32": Variant(learning_rate=5e-5),
    "lr1e-4_fp32": Variant(),
    "lr1e-4_bf16": Variant(bf16=True),
    "lr2e-4_bf16": Variant(learning_rate=2e-4, bf16=True),
    "lr1e-4_bf16_smooth0.1": Variant(bf16=True, label_smoothing=0.1),
    "lr2e-4_bf16_llrd0.8": Variant(learning_rate=2e-4, bf16=True, layer_decay=0.8),
    "lr1e-4_bf16_batch16": Variant(bf16=True, batch_size=16),
    "lr1e-4_bf16_mean": Variant(bf16=True, pooling="mean"),
    "lr1e-4_bf16_frozen_words": Variant(bf16=True, freeze_word_embeddings=True),
    "lr1e-4_bf16_mean_frozen_words": Variant(bf16=True, pooling="mean", freeze_word_embeddings=True),
    "lr1e-4_bf16_mean_frozen_words_avg3": Variant(
        bf16=True, pooling="mean", freeze_word_embeddings=True, average_last=3
    ),
    "lr1e-4_bf16_mean_frozen_words_probe": Variant(
        bf16=True, pooling="mean", freeze_word_embeddings=True, linear_probe=True
    ),
    "lr1e-4_bf16_mean_frozen_words_probe_wise": Variant(
        bf16=True,
        pooling="mean",
        freeze_word_embeddings=True,
        linear_probe=True,
        interpolations=(0.25, 0.5, 0.75, 0.9),
    ),
    "lr1e-4_bf16_mean_probe": Variant(bf16=True, pooling="mean", linear_probe=True),
    "lr1e-4_bf16_mean_probe_batch16": Variant(bf16=True, pooling="mean", linear_probe=True, batch_size=16),
    "lr1e-4_bf16_mean_probe_avg3": Variant(bf16=True, pooling="mean", linear_probe=True, average_last=3),
    "lr1e-4_bf16_mean_probe_llrd0.8": Variant(bf16=True, pooling="mean", linear_probe=True, layer_decay=0.8),
    "lr1e-4_bf16_mean_probe_cosine": Variant(bf16=True, pooling="mean", linear_probe=True, schedule="cosine"),
    "lr1e-4_bf16_mean_probe_soup2": Variant(bf16=True, pooling="mean", linear_probe=True, soup_seeds=(43,)),
    "lr5e-5_bf16_mean_probe": Variant(learning_rate=5e-5, bf16=True, pooling="mean", linear_probe=True),
    "lr1e-4_bf16_mean_probe_random_batches": Variant(
        bf16=True, pooling="mean", linear_probe=True, grouped_by_length=False
    ),
    "lr1e-4_bf16_mean_probe_smooth0.1": Variant(
        bf16=True, pooling="mean", linear_probe=True, label_smoothing=0.1
    ),
    "lr1e-4_bf16_mean_probe_no_warmup": Variant(bf16=True, pooling="mean", linear_probe=True, warmup=0.0),
    "lr1e-4_bf16_mean_probe_rdrop1": Variant(bf16=True, pooling="mean", linear_probe=True, consistency=1.0),
    "lr1e-4_bf16_mean_probe_wd0": Variant(bf16=True, pooling="mean", linear_probe=True, weight_decay=0.0),
    "lr1e-4_bf16_mean_probe_wd0.1": Variant(bf16=True, pooling="mean", linear_probe=True, weight_decay=0.1),
    "lr1.5e-4_bf16_mean_probe": Variant(learning_rate=1.5e-4, bf16=True, pooling="mean", linear_probe=True),
    "lr2e-4_bf16_mean_probe": Variant(learning_rate=2e-4, bf16=True, pooling="mean", linear_probe=True),
    "lr1e-4_bf16_mean_probe_every_row": Variant(
        bf16=True, pooling="mean", linear_probe=True, probe_every_row=True
    ),
    "lr1e-4_bf16_mean_probe_no_hidden_dropout": Variant(
        bf16=True, pooling="mean", linear_probe=True, hidden_dropout=0.0
    ),
    "lr5e-5_bf16_mean_frozen_words": Variant(
        learning_rate=5e-5, bf16=True, pooling="mean", freeze_word_embeddings=True
    ),
    "lr2e-4_bf16_mean": Variant(learning_rate=2e-4, bf16=True, pooling="mean"),
    "lora_lr1e-3_bf16": Variant(learning_rate=1e-3, bf16=True, lora=True),
    "lora_lr1e-3_bf16_mean": Variant(learning_rate=1e-3, bf16=True, lora=True, pooling="mean"),
    "lora_lr2e-3_bf16_mean": Variant(learning_rate=2e-3, bf16=True, lora=True, pooling="mean"),
    "lora_lr2e-3_bf16_mean_probe": Variant(
        learning_rate=2e-3, bf16=True, lora=True, pooling="mean", linear_probe=True
    ),
    "lora_lr4e-3_bf16_mean": Variant(learning_rate=4e-3, bf16=True, lora=True, pooling="mean"),
    "lora_lr2e-3_bf16_mean_dropout0": Variant(
        learning_rate=2e-3, bf16=True, lora=True, pooling="mean", lora_dropout=0.0
    ),
    "lora_lr1e-3_bf16_mean_alpha32": Variant(
        learning_rate=1e-3, bf16=True, lora=True, pooling="mean", lora_alpha=32
    ),
}


def _model(train: Dataset, n_labels: int, variant: Variant) -> torch.nn.Module:
    """Built by the pipeline's own code: its head (load_classifier), its linear probe (fit_head) and
    its method (apply_method)."""
    labels = [str(i) for i in range(n_labels)]
    model, tokenizer = load_classifier(minilm_path(), labels, seed=42, pooling=variant.pooling)
    if variant.hidden_dropout is not None:
        attention = {id(layer.attention.self.dropout) for layer in model.base_model.encoder.layer}
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout) and id(module) not in attention:
                module.p = variant.hidden_dropout
    if variant.linear_probe:
        split = prepared_split(train)
        device = AcceleratorResource(device="cpu", precision="bf16" if variant.bf16 else "fp32").resolve()
        rows = len(split.labels) if variant.probe_every_row else MAX_ROWS
        fit_head(model, split, tokenizer, device, batch_size=128, seed=42, max_rows=rows)
    method = TrainConfig(
        method="lora" if variant.lora else "full",
        freeze_word_embeddings=variant.freeze_word_embeddings,
        lora_alpha=variant.lora_alpha,
        lora_dropout=variant.lora_dropout,
    )
    trained, _ = apply_method(model, method)
    return trained


def float_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A float32 copy of the model's weights, detached from the training that goes on changing them."""
    return {name: value.detach().float().clone() for name, value in model.state_dict().items()}


@dataclass
class StepClock(TrainerCallback):
    """Seconds spent inside training steps; evaluation between steps is not counted."""

    seconds: float = 0.0
    started: float = 0.0
    curve: list[dict[str, float]] = field(default_factory=list)
    keep_weights: bool = False
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)

    def on_step_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.seconds += time.perf_counter() - self.started

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.keep_weights and "model" in kwargs:
            self.snapshots[state.global_step] = float_weights(kwargs["model"])
        self.curve.append(
            {
                "step": state.global_step,
                "epoch": round(float(state.epoch or 0), 3),
                "train_seconds": round(self.seconds, 1),
                "accuracy": round(metrics["eval_accuracy"], 4),
                "macro_f1": round(metrics["eval_macro_f1"], 4),
            }
        )


def _metrics(prediction) -> dict[str, float]:
    predicted = np.argmax(prediction.predictions, axis=-1)
    return {
        "accuracy": float(accuracy_score(prediction.label_ids, predicted)),
        "macro_f1": float(f1_score(prediction.label_ids, predicted, average="macro")),
    }


def encode(frame: pd.DataFrame, tokenizer, label_ids: dict[str, int]) -> Dataset:
    encoded = tokenizer(frame["text"].tolist(), truncation=True, max_length=128)
    encoded["labels"] = [label_ids[label] for label in frame["label"]]
    encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
    return Dataset.from_dict(dict(encoded))


def prepared_split(dataset: Dataset) -> PreparedSplit:
    """An encoded set as the pipeline's probe and feature cache take it."""
    return PreparedSplit(dataset.remove_columns("length"), dataset["length"], np.asarray(dataset["labels"]))


# sst2_long: sentence-length phrases, as SST-2's dev sentences are (train phrases are mostly fragments).
LONG_WORDS = 15
LONG_ROWS = 1000


def tuning_sets(name: str, sst2_train: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    if name == "sst2_long":
        everything = sst2("train")
        sample = everything.sample(n=sst2_train, random_state=seed)
        # The train rows bench_sst2_quality trains on (the same sample and hash split, minus validation).
        train = sample[assign_splits(sample["text"], 0.95, 0.025) == "train"]
        rest = everything.drop(sample.index)
        long = rest[rest["text"].str.split().str.len() >= LONG_WORDS]
        return train, long.sample(n=min(LONG_ROWS, len(long)), random_state=seed + 1)
    if name == "sst2":
        frame = sst2("train").sample(n=sst2_train, random_state=0)
        # Everything outside the 85 % train share is the tuning hold-out (never SST-2 dev).
        split = assign_splits(frame["text"], 0.85, 0.0)
        return frame[split == "train"], frame[split != "train"]
    frame = bbc_splits()
    return frame[frame["split"] == "train"], frame[frame["split"] == "validation"]


def _optimizer(model, variant: Variant):
    """AdamW with layer-wise decay: layer l of L gets lr * decay^(L - l); embeddings the lowest rate."""
    if variant.layer_decay == 1.0:
        return None
    layers = model.config.num_hidden_layers
    groups: dict[tuple[float, bool], list] = {}
    for name, parameter in model.named_parameters():
        if "encoder.layer." in name:
            depth = int(name.split("encoder.layer.")[1].split(".")[0]) + 1
        elif "embeddings" in name:
            depth = 0
        else:
            depth = layers + 1
        lr = variant.learning_rate * variant.layer_decay ** (layers + 1 - depth)
        no_decay = parameter.ndim == 1
        groups.setdefault((lr, no_decay), []).append(parameter)
    return torch.optim.AdamW(
        [
            {"params": params, "lr": lr, "weight_decay": 0.0 if no_decay else variant.weight_decay}
            for (lr, no_decay), params in groups.items()
        ]
    )


def training_arguments(variant: Variant, out: Path, seed: int, **schedule: Any) -> TrainingArguments:
    """The variant's Trainer settings; ``schedule`` says how long to train and when to evaluate."""
    return TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=variant.batch_size,
        per_device_eval_batch_size=128,
        learning_rate=variant.learning_rate,
        warmup_steps=variant.warmup,
        weight_decay=variant.weight_decay,
        lr_scheduler_type=variant.schedule,
        label_smoothing_factor=variant.label_smoothing,
        bf16=variant.bf16,
        use_cpu=True,
        save_strategy="no",
        logging_strategy="no",
        train_sampling_strategy="group_by_length" if variant.grouped_by_length else "random",
        report_to=[],
        disable_tqdm=True,
        seed=seed,
        data_seed=seed,
        **schedule,
    )


def run_variant(
    train: Dataset, tune: Dataset, n_labels: int, variant: Variant, epochs: float, evals: int, out: Path
) -> dict:
    set_seed(42)
    model = _model(train, n_labels, variant)
    steps = int(np.ceil(len(train) / variant.batch_size) * epochs)
    initial = copy.deepcopy(model) if variant.soup_seeds else None
    start = float_weights(model)
    load = os.getloadavg()[0]
    collator = DataCollatorWithPadding(AutoTokenizer.from_pretrained(minilm_path()))
    train_from = partial(
        _train, train=train, tune=tune, collator=collator, variant=variant, steps=steps, evals=evals
    )
    trainer, clock = train_from(model, out, 42)
    best = max(clock.curve, key=lambda point: point["macro_f1"])
    averaged = None
    if variant.average_last:
        last = [clock.snapshots[step] for step in sorted(clock.snapshots)[-variant.average_last :]]
        mean = {name: torch.stack([weights[name] for weights in last]).mean(0) for name in last[0]}
        clock.keep_weights = False
        averaged = {
            "steps": sorted(clock.snapshots)[-variant.average_last :],
            **_score_weights(trainer, clock, mean),
        }
    interpolated = _interpolations(trainer, clock, start, variant.interpolations)
    soup = _soup(trainer, clock, initial, variant.soup_seeds, train_from, out) if initial else None
    return {
        "interpolated_weights": interpolated,
        "averaged_weights": averaged,
        "soup": soup,
        "variant": asdict(variant),
        "steps": steps,
        "train_seconds": round(clock.seconds, 1),
        "samples_per_second": round(steps * variant.batch_size / clock.seconds, 1),
        "load_average_1min_at_start": round(load, 2),
        "best": best,
        "final": clock.curve[-1],
        "curve": clock.curve,
    }


def _train(
    model: torch.nn.Module,
    out: Path,
    seed: int,
    *,
    train: Dataset,
    tune: Dataset,
    collator: DataCollatorWithPadding,
    variant: Variant,
    steps: int,
    evals: int,
) -> tuple[Trainer, StepClock]:
    set_seed(seed)
    args = training_arguments(
        variant, out, seed, max_steps=steps, eval_strategy="steps", eval_steps=max(1, steps // evals)
    )
    clock = StepClock(keep_weights=variant.average_last > 0)
    trainer_class = Trainer
    if variant.consistency:
        trainer_class = partial(ConsistencyTrainer, weight=variant.consistency)
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=tune,
        data_collator=collator,
        compute_metrics=_metrics,
        callbacks=[clock],
        optimizers=(_optimizer(model, variant), None),
    )
    trainer.train()
    return trainer, clock


class ConsistencyTrainer(Trainer):
    """R-Drop (Liang et al., 2021): in training, each batch goes through the model twice in one doubled
    batch, so dropout draws two masks per row; the loss is the two cross-entropies' mean plus ``weight``
    times the symmetric KL divergence between the two predictions. Evaluation is the plain Trainer's."""

    def __init__(self, *args: Any, weight: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weight = weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not model.training:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        doubled = {name: torch.cat([value, value]) for name, value in inputs.items()}
        first, second = model(**doubled)["logits"].float().chunk(2)
        cross_entropy = (
            functional.cross_entropy(first, labels) + functional.cross_entropy(second, labels)
        ) / 2
        log_first, log_second = functional.log_softmax(first, -1), functional.log_softmax(second, -1)
        divergence = (
            functional.kl_div(log_first, log_second, reduction="batchmean", log_target=True)
            + functional.kl_div(log_second, log_first, reduction="batchmean", log_target=True)
        ) / 2
        loss = cross_entropy + self.weight * divergence
        return (loss, {"logits": first}) if return_outputs else loss


def _soup(
    trainer: Trainer,
    clock: StepClock,
    initial: torch.nn.Module,
    seeds: tuple[int, ...],
    train_from: Callable[[torch.nn.Module, Path, int], tuple[Trainer, StepClock]],
    out: Path,
) -> dict:
    """Train one more run per soup seed from ``initial``; score each alone and the mean of all finals."""
    finals = [float_weights(trainer.model)]
    members = []
    for seed in seeds:
        member, member_clock = train_from(copy.deepcopy(initial), out / f"soup{seed}", seed)
        finals.append(float_weights(member.model))
        members.append(
            {"seed": seed, "train_seconds": round(member_clock.seconds, 1), "final": member_clock.curve[-1]}
        )
    mean = {name: torch.stack([weights[name] for weights in finals]).mean(0) for name in finals[0]}
    return {
        "members": members,
        "train_seconds": round(clock.seconds + sum(m["train_seconds"] for m in members), 1),
        **_score_weights(trainer, clock, mean),
    }


def _interpolations(
    trainer: Trainer, clock: StepClock, start: dict[str, torch.Tensor], weights: tuple[float, ...]
) -> dict[str, dict[str, float]]:
    """Scores of the weights interpolated between the start (after any probe) and the end of training."""
    final = float_weights(trainer.model)
    return {
        str(weight): _score_weights(
            trainer, clock, {name: (1 - weight) * start[name] + weight * final[name] for name in final}
        )
        for weight in weights
    }


def _score_weights(trainer: Trainer, clock: StepClock, weights: dict[str, torch.Tensor]) -> dict[str, float]:
    """Held-out scores of ``weights`` loaded into the trained model, which gets its own weights back."""
    model = trainer.model
    own = {name: value.detach().clone() for name, value in model.state_dict().items()}
    model.load_state_dict({name: value.to(own[name].dtype) for name, value in weights.items()})
    try:
        result = trainer.evaluate()
        clock.curve.pop()  # not a point of the training curve
    finally:
        model.load_state_dict(own)
    return {"accuracy": round(result["eval_accuracy"], 4), "macro_f1": round(result["eval_macro_f1"], 4)}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", choices=["sst2", "sst2_long", "bbc"], default="sst2")
    parser.add_argument("--sst2-train", type=int, default=2500)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--evals", type=int, default=8, help="evaluations over the run")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--name", help="result file name (default: defaults_<data>)")
    parser.add_argument("--sample-seed", type=int, default=0, help="sst2_long: which train sample")
    args = parser.parse_args(argv)
    train_frame, tune_frame = tuning_sets(args.data, args.sst2_train, args.sample_seed)
    labels = sorted(set(train_frame["label"]))
    label_ids = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    train, tune = encode(train_frame, tokenizer, label_ids), encode(tune_frame, tokenizer, label_ids)
    lengths = np.array(train["length"])
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-defaults-") as tmp:
        for name in args.variants.split(","):
            print(f"== {args.data} {name}", flush=True)
            results[name] = run_variant(
                train, tune, len(labels), VARIANTS[name], args.epochs, args.evals, Path(tmp) / name
            )
            print(results[name]["best"], results[name]["train_seconds"], flush=True)
    return write_result(
        args.name or f"defaults_{args.data}",
        {
            "data": args.data,
            "train_rows": len(train),
            "tuning_rows": len(tune),
            "labels": labels,
            "epochs": args.epochs,
            "token_length_percentiles": {f"p{q}": int(np.percentile(lengths, q)) for q in (50, 90, 99, 100)},
            "variants": results,
        },
    )


if __name__ == "__main__":
    main()
