"""Evaluation report building blocks: metrics, plots and a markdown rendering, all pure functions."""

from ft_assets.evaluation.baseline import fit_lexical_baseline, score_lexical_baseline
from ft_assets.evaluation.markdown import render_report_md
from ft_assets.evaluation.metrics import (
    EvaluationReport,
    LexicalBaseline,
    MajorityBaseline,
    TopError,
    compute_report,
)
from ft_assets.evaluation.plots import confusion_matrix_png, training_curves_png

__all__ = [
    "EvaluationReport",
    "LexicalBaseline",
    "MajorityBaseline",
    "TopError",
    "compute_report",
    "confusion_matrix_png",
    "fit_lexical_baseline",
    "render_report_md",
    "score_lexical_baseline",
    "training_curves_png",
]
