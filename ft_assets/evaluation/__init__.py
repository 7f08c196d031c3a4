"""Evaluation report building blocks: metrics, plots and a markdown rendering, all pure functions."""

from ft_assets.evaluation.markdown import render_report_md
from ft_assets.evaluation.metrics import EvaluationReport, MajorityBaseline, TopError, compute_report
from ft_assets.evaluation.plots import confusion_matrix_png, training_curves_png

__all__ = [
    "EvaluationReport",
    "MajorityBaseline",
    "TopError",
    "compute_report",
    "confusion_matrix_png",
    "render_report_md",
    "training_curves_png",
]
