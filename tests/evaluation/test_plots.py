from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from ft_assets.evaluation import EvaluationReport, compute_report, confusion_matrix_png, training_curves_png
from ft_assets.evaluation.plots import CURVES_FIGSIZE, DPI, confusion_figsize
from tests.evaluation.cases import LABELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TRAIN_AND_EVAL = [
    {"loss": 1.1, "grad_norm": 3.0, "learning_rate": 5e-5, "step": 10, "epoch": 0.5},
    {"loss": 0.9, "step": 20, "epoch": 1.0},
    {"eval_loss": 0.8, "eval_accuracy": 0.6, "eval_macro_f1": 0.55, "epoch": 1.0, "step": 20},
    {"loss": 0.5, "step": 40, "epoch": 2.0},
    {"eval_loss": 0.7, "eval_accuracy": 0.7, "eval_macro_f1": 0.66, "epoch": 2.0, "step": 40},
    {"train_runtime": 4.2, "train_loss": 0.8, "epoch": 2.0, "step": 40},
]


def _pixel_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        return image.size


def _inches_to_pixels(figsize: tuple[float, float]) -> tuple[int, int]:
    return round(figsize[0] * DPI), round(figsize[1] * DPI)


def test_confusion_png_size_follows_figsize(hand_report: EvaluationReport) -> None:
    assert _pixel_size(confusion_matrix_png(hand_report, LABELS)) == _inches_to_pixels(
        confusion_figsize(LABELS)
    )


def test_confusion_png_grows_with_classes_and_caps_long_labels() -> None:
    many = [f"class {i}" for i in range(12)]
    assert confusion_figsize(many)[0] > confusion_figsize(LABELS)[0]
    assert confusion_figsize(["x" * 300] * 3) == confusion_figsize(["x" * 60] * 3)
    y = list(range(12)) * 2
    report = compute_report(y, y, np.full((24, 12), 1 / 12), many, ["t"] * 24)
    assert _pixel_size(confusion_matrix_png(report, many)) == _inches_to_pixels(confusion_figsize(many))


def test_confusion_png_rejects_mismatched_labels(hand_report: EvaluationReport) -> None:
    with pytest.raises(ValueError):
        confusion_matrix_png(hand_report, ["a", "b"])


@pytest.mark.parametrize(
    "history",
    [
        TRAIN_AND_EVAL,
        [entry for entry in TRAIN_AND_EVAL if "eval_loss" not in entry],
        [{"loss": 1.0, "step": 1, "epoch": 0.1}],
        [{"eval_loss": 0.9, "eval_accuracy": 0.5, "eval_macro_f1": 0.4, "epoch": 1.0}],
        [],
    ],
    ids=["train-and-eval", "no-eval", "single-point", "eval-only", "empty"],
)
def test_training_curves_png_has_fixed_size(history: list[dict]) -> None:
    assert _pixel_size(training_curves_png(history)) == _inches_to_pixels(CURVES_FIGSIZE)


def test_training_curves_draw_the_eval_panel_only_when_logged() -> None:
    without_eval = [entry for entry in TRAIN_AND_EVAL if "eval_loss" not in entry]
    assert training_curves_png(TRAIN_AND_EVAL) != training_curves_png(without_eval)


def test_plots_leave_no_open_pyplot_figures(hand_report: EvaluationReport) -> None:
    before = plt.get_fignums()
    confusion_matrix_png(hand_report, LABELS)
    training_curves_png(TRAIN_AND_EVAL)
    assert plt.get_fignums() == before
