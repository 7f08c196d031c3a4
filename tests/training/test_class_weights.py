"""Class-weighted loss: the weights, the loss formula, and the training path that uses them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from ft_assets.training import train_classifier
from ft_assets.training.callbacks import TrainCounters
from ft_assets.training.classifier_trainer import ClassifierTrainer
from ft_assets.training.metrics import inverse_frequency_weights
from tests.conftest import TINY_LABELS
from tests.training.conftest import CPU, LogCapture, tiny_config, weights


def test_inverse_frequency_weights_balance_classes_and_zero_missing_ones():
    assert inverse_frequency_weights([0, 0, 0, 1], 3) == pytest.approx([4 / 6, 2.0, 0.0])
    assert inverse_frequency_weights([0, 1, 2, 0, 1, 2], 3) == pytest.approx([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="only 2 labels"):
        inverse_frequency_weights([0, 2], 2)


class _Logits(torch.nn.Module):
    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, **inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        assert "labels" not in inputs  # the loss is ours, not the model's
        return {"logits": self.logits}


def _loss(class_weights: torch.Tensor | None, logits: torch.Tensor, labels: torch.Tensor, training: bool):
    # compute_loss only touches these attributes, so a bare instance avoids building a whole Trainer.
    trainer = ClassifierTrainer.__new__(ClassifierTrainer)
    trainer._class_weights = class_weights
    trainer.counters = TrainCounters()
    model = _Logits(logits).train(training)
    mask = torch.ones(labels.shape[0], 5, dtype=torch.int64)
    return trainer.compute_loss(model, {"labels": labels, "input_ids": mask, "attention_mask": mask}), trainer


def test_compute_loss_is_weighted_cross_entropy_and_counts_training_batches():
    logits = torch.tensor([[2.0, 0.1, -1.0], [0.3, 0.2, 0.1], [-1.0, 0.5, 2.5], [0.0, 1.0, 0.0]])
    labels = torch.tensor([0, 1, 2, 1])
    class_weights = torch.tensor([0.5, 2.0, 1.0])
    weighted, trainer = _loss(class_weights, logits, labels, training=True)
    per_row = F.cross_entropy(logits, labels, reduction="none")
    expected = (per_row * class_weights[labels]).sum() / class_weights[labels].sum()
    assert weighted.item() == pytest.approx(expected.item())
    assert (trainer.counters.samples, int(trainer.counters.tokens)) == (4, 20)
    plain, evaluating = _loss(None, logits, labels, training=False)
    assert plain.item() == pytest.approx(per_row.mean().item())
    assert evaluating.counters.samples == 0


def test_class_weights_change_training_on_imbalanced_data(tiny_dataset, tiny_model_dir, tmp_path):
    train = tiny_dataset["train"]
    keep = [i for i, label in enumerate(train["labels"]) if label != 2 or i % 7 == 0]
    imbalanced = tiny_dataset.copy()
    imbalanced["train"] = train.select(keep)
    counts = np.bincount(imbalanced["train"]["labels"], minlength=3)
    expected = counts.sum() / (3 * counts)

    def run(name: str, on: bool, log: LogCapture) -> dict[str, torch.Tensor]:
        config = tiny_config(max_steps=3, class_weights=on)
        out = train_classifier(
            imbalanced,
            TINY_LABELS,
            tiny_model_dir,
            config,
            CPU,
            tmp_path / name,
            tmp_path / f"{name}-ck",
            log,
        )
        return weights(out.model_dir)

    log = LogCapture()
    weighted, plain = run("weighted", True, log), run("plain", False, LogCapture())
    shown = ", ".join(f"{n}={w:.3f}" for n, w in zip(TINY_LABELS, expected, strict=True))
    assert log.matching(f"class weights: {shown}")
    assert not torch.equal(weighted["classifier.weight"], plain["classifier.weight"])
