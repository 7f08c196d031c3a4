"""PNG figures for the evaluation report: the confusion matrix and the training curves."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from ft_assets.evaluation.report import EvaluationReport

DPI = 110
CURVES_FIGSIZE = (11.0, 4.5)
TICK_LABEL_MAX_CHARS = 28


def confusion_figsize(label_names: Sequence[str]) -> tuple[float, float]:
    """Inches: grows with the class count, plus room for the (truncated) rotated tick labels.

    Rounded to 0.1 inch so that, at DPI 110, the PNG's pixel size is exactly figsize * DPI.
    """
    n = len(label_names)
    longest = max((len(_short(name)) for name in label_names), default=0)
    margin = 0.09 * longest
    side = max(4.0, 0.55 * n) + margin
    return (round(side + 1.5, 1), round(side, 1))


def confusion_matrix_png(report: EvaluationReport, label_names: Sequence[str]) -> bytes:
    matrix = np.asarray(report.confusion_matrix, dtype=np.int64)
    if matrix.shape != (len(label_names), len(label_names)):
        raise ValueError(f"confusion matrix {matrix.shape} does not match {len(label_names)} labels")
    fig = _figure(confusion_figsize(label_names))
    ax = fig.add_subplot()
    display = ConfusionMatrixDisplay(matrix, display_labels=[_short(name) for name in label_names])
    # Shrink the count annotations as the grid gets denser so they stay inside their cells.
    fontsize = max(5.0, min(11.0, 160.0 / max(len(label_names), 1)))
    display.plot(
        ax=ax,
        cmap="Blues",
        values_format="d",
        xticks_rotation=45,
        colorbar=True,
        text_kw={"fontsize": fontsize},
    )
    for tick in ax.get_xticklabels():
        tick.set(ha="right", rotation_mode="anchor")
    ax.set_title(f"Confusion matrix (test, n={report.n_test})")
    return _to_png(fig)


def training_curves_png(log_history: list[dict[str, Any]]) -> bytes:
    """Two panels from `Trainer.state.log_history`: losses vs epoch, validation metrics vs epoch."""
    train = _series(log_history, "loss")
    eval_loss = _series(log_history, "eval_loss")
    fig = _figure(CURVES_FIGSIZE)
    loss_ax, metric_ax = fig.subplots(1, 2)
    _plot_series(loss_ax, [("train loss", train), ("validation loss", eval_loss)])
    loss_ax.set(title="Loss", xlabel="epoch", ylabel="loss")
    metrics = [
        ("validation accuracy", _series(log_history, "eval_accuracy")),
        ("validation macro F1", _series(log_history, "eval_macro_f1")),
    ]
    _plot_series(metric_ax, metrics)
    metric_ax.set(title="Validation metrics", xlabel="epoch", ylabel="score")
    return _to_png(fig)


def _series(log_history: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    # The trainer's closing summary carries `train_loss`, not `loss`, so it is skipped here.
    points = [
        (float(entry["epoch"]), float(entry[key]))
        for entry in log_history
        if entry.get(key) is not None and entry.get("epoch") is not None
    ]
    return [x for x, _ in points], [y for _, y in points]


def _plot_series(ax: Axes, series: list[tuple[str, tuple[list[float], list[float]]]]) -> None:
    plotted = False
    for label, (xs, ys) in series:
        if xs:
            # Markers keep a single logged point visible; a bare line of one point draws nothing.
            ax.plot(xs, ys, marker="o", markersize=3, label=label)
            plotted = True
    if plotted:
        ax.legend()
        ax.grid(alpha=0.3)
    else:
        ax.text(0.5, 0.5, "nothing logged", ha="center", va="center", transform=ax.transAxes)


def _short(name: str) -> str:
    return name if len(name) <= TICK_LABEL_MAX_CHARS else name[: TICK_LABEL_MAX_CHARS - 1] + "…"


def _figure(figsize: tuple[float, float]) -> Figure:
    # A bare Figure on an Agg canvas, not pyplot: nothing needs a display, and pyplot's global
    # registry (which leaks figures unless every path calls plt.close) never sees these figures.
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _to_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No bbox_inches="tight": the pixel size must follow from figsize * DPI alone.
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
