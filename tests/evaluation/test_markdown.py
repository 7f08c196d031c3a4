from __future__ import annotations

import numpy as np

from ft_assets.evaluation import EvaluationReport, compute_report, render_report_md
from ft_assets.evaluation.markdown import TEXT_MAX_CHARS, escape_cell
from tests.evaluation.cases import LABELS


def _render(report: EvaluationReport, labels: list[str] = LABELS) -> str:
    return render_report_md(
        report,
        model_version="m-123",
        data_version="d-456",
        base_model="all-MiniLM-L6-v2",
        label_names=labels,
        extra_lines=["Best epoch: 3"],
    )


def test_report_has_headline_versions_and_baseline(hand_report: EvaluationReport) -> None:
    md = _render(hand_report)
    assert "`m-123`" in md
    assert "`d-456`" in md
    assert "all-MiniLM-L6-v2" in md
    assert "- Best epoch: 3" in md
    assert "| accuracy | 0.7000 |" in md
    assert "| macro F1 | 0.6984 |" in md
    assert "Majority baseline (always `a`): accuracy 0.4000; the model is +0.3000 against it." in md


def test_report_has_per_class_and_confusion_tables(hand_report: EvaluationReport) -> None:
    md = _render(hand_report)
    assert "| a | 0.6667 | 0.5000 | 0.5714 | 4 |" in md
    assert "| c | 0.7500 | 1.0000 | 0.8571 | 3 |" in md
    assert "| true \\\\ predicted | a | b | c |" in md
    assert "| **a** | 2 | 1 | 1 |" in md
    assert "| **c** | 0 | 0 | 3 |" in md


def test_top_errors_table_is_ordered(hand_report: EvaluationReport) -> None:
    md = _render(hand_report)
    assert "| 1 | 0.950 | a | c | text 3 |" in md
    assert md.index("text 3 |") < md.index("text 6 |") < md.index("text 2 |")


def test_pipes_newlines_and_long_texts_are_made_table_safe() -> None:
    labels = ["yes|no", "other"]
    long_text = "word " * 100
    texts = ["a | b\nc\r\nd", long_text]
    proba = np.array([[0.1, 0.9], [0.8, 0.2]])
    md = _render(compute_report([0, 1], [1, 0], proba, labels, texts), labels)
    assert "| 1 | 0.900 | yes\\|no | other | a \\| b c d |" in md
    assert "| **yes\\|no** | 0 | 1 |" in md
    error_rows = [line for line in md.splitlines() if line.startswith("| 2 |")]
    assert len(error_rows) == 1
    assert error_rows[0].endswith("… |")
    assert "a | b" not in md


def test_escape_cell_truncates_before_escaping() -> None:
    cell = escape_cell("x" * (TEXT_MAX_CHARS - 2) + "|" + "y" * 50, TEXT_MAX_CHARS)
    assert cell == "x" * (TEXT_MAX_CHARS - 2) + "\\|…"


def test_report_without_errors_says_so() -> None:
    report = compute_report([0, 1], [0, 1], np.eye(2), ["p", "q"], ["t1", "t2"])
    assert "No misclassified test examples." in _render(report, ["p", "q"])
