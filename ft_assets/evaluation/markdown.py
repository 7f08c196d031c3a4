"""A human-readable markdown rendering of an EvaluationReport (Dagster metadata, model card)."""

from __future__ import annotations

from collections.abc import Sequence

from ft_assets.evaluation.metrics import EvaluationReport
from ft_assets.markdown import escape_cell
from ft_assets.markdown import table as _table

__all__ = ["TEXT_MAX_CHARS", "escape_cell", "render_report_md"]

TEXT_MAX_CHARS = 120


def render_report_md(
    report: EvaluationReport,
    *,
    model_version: str,
    data_version: str,
    base_model: str,
    label_names: Sequence[str],
    extra_lines: list[str] | None = None,
) -> str:
    sections = [
        _header(report, model_version, data_version, base_model, extra_lines or []),
        _headline(report),
        _per_class(report, label_names),
        _confusion(report, label_names),
        _top_errors(report),
    ]
    return "\n\n".join(sections) + "\n"


def _header(
    report: EvaluationReport, model_version: str, data_version: str, base_model: str, extra_lines: list[str]
) -> str:
    lines = [
        "# Evaluation report",
        "",
        f"- Model version: `{model_version}`",
        f"- Data version: `{data_version}`",
        f"- Base model: `{base_model}`",
        f"- Test examples: {report.n_test}",
    ]
    lines += [f"- {line}" for line in extra_lines]
    return "\n".join(lines)


def _headline(report: EvaluationReport) -> str:
    rows = [
        ["accuracy", f"{report.accuracy:.4f}"],
        ["macro F1", f"{report.macro_f1:.4f}"],
        ["macro precision", f"{report.macro_precision:.4f}"],
        ["macro recall", f"{report.macro_recall:.4f}"],
        ["weighted F1", f"{report.weighted_f1:.4f}"],
        ["log loss", "n/a" if report.log_loss is None else f"{report.log_loss:.4f}"],
    ]
    return "## Headline metrics\n\n" + _table(["metric", "value"], rows, "lr") + "\n\n" + _baselines(report)


def _baselines(report: EvaluationReport) -> str:
    """The model beside what it must beat: a bag of words fitted on the same split, and the majority class."""
    majority = report.majority_baseline
    rows = [["**fine-tuned model**", f"{report.accuracy:.4f}", f"{report.macro_f1:.4f}"]]
    lexical = report.lexical_baseline
    if lexical is not None:
        rows.append(
            [f"{lexical.name} (C={lexical.c:g})", f"{lexical.accuracy:.4f}", f"{lexical.macro_f1:.4f}"]
        )
    rows.append(
        [
            f"majority class (always `{escape_cell(majority.label)}`)",
            f"{majority.accuracy:.4f}",
            f"{majority.macro_f1:.4f}",
        ]
    )
    table = _table(["model", "accuracy", "macro F1"], rows, "lrr")
    lines = [
        f"Majority baseline (always `{majority.label}`): accuracy {majority.accuracy:.4f}; "
        f"the model is {report.accuracy - majority.accuracy:+.4f} against it."
    ]
    margin = report.margin_over_lexical()
    if margin is not None:
        verdict = "beats" if margin["macro_f1"] > 0 else "does NOT beat"
        lines.insert(
            0,
            f"The fine-tuned model {verdict} the TF-IDF baseline: macro F1 {margin['macro_f1']:+.4f}, "
            f"accuracy {margin['accuracy']:+.4f}.",
        )
    return "## Against the baselines\n\n" + table + "\n\n" + "\n".join(f"- {line}" for line in lines)


def _per_class(report: EvaluationReport, label_names: Sequence[str]) -> str:
    rows = []
    for name in label_names:
        scores = report.per_class[name]
        rows.append(
            [escape_cell(name)]
            + [f"{scores[key]:.4f}" for key in ("precision", "recall", "f1")]
            + [str(scores["support"])]
        )
    header = ["label", "precision", "recall", "F1", "support"]
    return "## Per class\n\n" + _table(header, rows, "lrrrr")


def _confusion(report: EvaluationReport, label_names: Sequence[str]) -> str:
    names = [escape_cell(name) for name in label_names]
    rows = [
        [f"**{name}**", *map(str, counts)]
        for name, counts in zip(names, report.confusion_matrix, strict=True)
    ]
    header = ["true \\\\ predicted", *names]
    return "## Confusion matrix\n\nRows are true labels, columns predicted.\n\n" + _table(
        header, rows, "l" + "r" * len(names)
    )


def _top_errors(report: EvaluationReport) -> str:
    if not report.top_errors:
        return "## Most confident errors\n\nNo misclassified test examples."
    rows = [
        [
            str(rank),
            f"{error.confidence:.3f}",
            escape_cell(error.true_label),
            escape_cell(error.predicted_label),
            escape_cell(error.text, TEXT_MAX_CHARS),
        ]
        for rank, error in enumerate(report.top_errors, start=1)
    ]
    header = ["#", "confidence", "true", "predicted", "text"]
    return "## Most confident errors\n\n" + _table(header, rows, "rrlll")
