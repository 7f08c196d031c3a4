"""End-to-end behaviour of train_classifier on a tiny BERT."""

from __future__ import annotations

import json
import re

import pytest
import torch
from transformers import AutoModelForSequenceClassification, TrainerCallback

from ft_assets.training import train_classifier
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, STEPS_PER_EPOCH, LogCapture, tiny_config, weights


def test_output_is_a_self_contained_safetensors_model_dir(baseline_run):
    model_dir = baseline_run.outcome.model_dir
    assert model_dir == baseline_run.output_dir
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in model_dir.iterdir()
    }
    assert not list(model_dir.glob("*.bin"))
    config = json.loads((model_dir / "config.json").read_text())
    assert config["id2label"] == {str(i): name for i, name in enumerate(TINY_LABELS)}
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True)
    assert model.config.num_labels == len(TINY_LABELS)
    # Staging directories are renamed away, never left next to the model.
    assert [p.name for p in model_dir.parent.iterdir() if p.name.startswith(".")] == []


def test_best_metric_and_step_come_from_the_evaluations(baseline_run):
    outcome = baseline_run.outcome
    evaluations = outcome.evaluations
    assert [e["epoch"] for e in evaluations] == [1.0, 2.0, 3.0]
    assert outcome.best_metric == max(e["eval_macro_f1"] for e in evaluations)
    best = next(e for e in evaluations if e["eval_macro_f1"] == outcome.best_metric)
    assert (outcome.best_step, outcome.best_epoch) == (best["step"], best["epoch"])
    # keep_model's default: the final weights, with the final evaluation's metric.
    assert (outcome.keep_model, outcome.kept_step) == ("final", outcome.global_step)
    assert outcome.kept_metric == evaluations[-1]["eval_macro_f1"]
    final_weights = weights(baseline_run.checkpoint_dir / f"checkpoint-{outcome.global_step}")
    saved = weights(outcome.model_dir)
    assert saved.keys() == final_weights.keys()
    assert all(torch.equal(saved[name], final_weights[name]) for name in saved)


class _FirstEpochLooksBest(TrainerCallback):
    """Rewrites the validation metric in place (the Trainer ranks checkpoints on this same dict),
    so the best checkpoint is known in advance and is not the last one."""

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        metrics["eval_macro_f1"] = 1.0 if state.global_step == STEPS_PER_EPOCH else 0.0


@pytest.mark.parametrize("keep_model", ["best", "final"])
def test_keep_model_decides_which_checkpoint_is_exported(tiny_dataset, tiny_model_dir, tmp_path, keep_model):
    config = tiny_config(epochs=2, keep_model=keep_model)
    log = LogCapture()
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, tmp_path / "m", tmp_path / "ck", log,
        callbacks=[_FirstEpochLooksBest()],
    )  # fmt: skip
    assert (outcome.best_step, outcome.best_epoch, outcome.best_metric) == (STEPS_PER_EPOCH, 1.0, 1.0)
    assert outcome.global_step == 2 * STEPS_PER_EPOCH
    kept_step = STEPS_PER_EPOCH if keep_model == "best" else 2 * STEPS_PER_EPOCH
    logged = {e["step"]: e["eval_macro_f1"] for e in outcome.evaluations}  # before the callback's rewrite
    assert (outcome.kept_step, outcome.kept_metric) == (kept_step, logged[kept_step])
    assert log.matching(f"kept the {keep_model} weights (step {kept_step},")
    saved = weights(outcome.model_dir)
    kept = weights(tmp_path / "ck" / f"checkpoint-{kept_step}")
    other = weights(tmp_path / "ck" / f"checkpoint-{3 * STEPS_PER_EPOCH - kept_step}")
    assert all(torch.equal(saved[name], kept[name]) for name in saved)
    assert not torch.equal(saved["classifier.weight"], other["classifier.weight"])


def test_outcome_counts_what_was_trained(baseline_run, tiny_dataset):
    outcome = baseline_run.outcome
    train_rows = len(tiny_dataset["train"])
    assert (outcome.global_step, outcome.epochs_completed) == (3 * STEPS_PER_EPOCH, 3.0)
    assert outcome.resumed_from_step is None
    assert outcome.train_samples == 3 * train_rows
    assert outcome.train_tokens == 3 * sum(tiny_dataset["train"]["length"])
    assert 0 < outcome.train_seconds < outcome.wall_seconds
    assert outcome.train_samples_per_second == pytest.approx(outcome.train_samples / outcome.train_seconds)
    assert outcome.train_tokens_per_second == pytest.approx(outcome.train_tokens / outcome.train_seconds)
    assert (outcome.device, outcome.precision) == ("cpu", "fp32")
    losses = outcome.train_losses
    assert len(losses) >= 9 and all(loss["loss"] > 0 for loss in losses)


def test_progress_is_logged_at_least_every_tenth_of_the_run(baseline_run):
    lines = baseline_run.log.matching("/18 (")
    steps = [int(re.match(r"step (\d+)/18", line).group(1)) for line in lines]
    gaps = [b - a for a, b in zip([0, *steps], steps, strict=False)]
    assert steps[-1] == 18 and max(gaps) <= 2  # 10% of 18 steps, rounded up
    for fragment in ("epoch", "loss", "lr", "samples/s", "elapsed", "left"):
        assert all(fragment in line for line in lines), fragment
    assert len(baseline_run.log.matching("eval at step")) == 3


def test_same_seed_gives_identical_weights_and_another_seed_does_not(tiny_dataset, tiny_model_dir, tmp_path):
    def run(name: str, seed: int) -> dict[str, torch.Tensor]:
        config = tiny_config(max_steps=STEPS_PER_EPOCH, seed=seed)
        out = train_classifier(
            tiny_dataset,
            TINY_LABELS,
            tiny_model_dir,
            config,
            CPU,
            tmp_path / name,
            tmp_path / f"{name}-ck",
            LogCapture(),
        )
        return weights(out.model_dir)

    first, second, other = run("a", 7), run("b", 7), run("c", 8)
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert not torch.equal(first["classifier.weight"], other["classifier.weight"])


def test_early_stopping_ends_the_run_when_the_metric_stalls(tiny_dataset, tiny_model_dir, tmp_path):
    # At this rate the weights barely move, so macro-F1 repeats exactly and never improves.
    config = tiny_config(epochs=8, learning_rate=1e-9, early_stopping_patience=1)
    log = LogCapture()
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, tmp_path / "m", tmp_path / "ck", log
    )
    assert len({e["eval_macro_f1"] for e in outcome.evaluations}) == 1
    assert outcome.epochs_completed == 2.0
    assert outcome.global_step == 2 * STEPS_PER_EPOCH
    assert outcome.best_step == STEPS_PER_EPOCH
    assert outcome.model_dir.is_dir()


class _GradFlags(TrainerCallback):
    def __init__(self) -> None:
        self.flags: dict[str, bool] = {}

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.flags = {name: p.requires_grad for name, p in model.named_parameters()}


def test_frozen_layers_get_no_gradient_and_keep_their_weights(tiny_dataset, tiny_model_dir, tmp_path):
    flags = _GradFlags()
    log = LogCapture()
    config = tiny_config(max_steps=STEPS_PER_EPOCH, method="partial", frozen_layers=1)
    outcome = train_classifier(
        tiny_dataset, TINY_LABELS, tiny_model_dir, config, CPU, tmp_path / "m", tmp_path / "ck", log,
        callbacks=[flags],
    )  # fmt: skip

    def frozen(name: str) -> bool:
        return name.startswith(("bert.embeddings.", "bert.encoder.layer.0."))

    assert flags.flags and all(flags.flags[n] is not frozen(n) for n in flags.flags)
    assert log.matching("frozen: bert.embeddings, bert.encoder.layer.0")
    base = {f"bert.{name}": tensor for name, tensor in weights(tiny_model_dir).items()}
    trained = weights(outcome.model_dir)
    frozen_names = [n for n in trained if frozen(n)]
    assert frozen_names and all(torch.equal(trained[n], base[n]) for n in frozen_names)
    moved = [
        n for n in trained if n.startswith("bert.encoder.layer.1.") and not torch.equal(trained[n], base[n])
    ]
    assert moved, "the unfrozen layer should have been trained"
