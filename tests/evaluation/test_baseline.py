"""The TF-IDF + logistic-regression baseline: fitted on train, C chosen on validation, scored alike."""

from __future__ import annotations

import dataclasses

import pytest

from ft_assets.evaluation import (
    EvaluationReport,
    compute_report,
    fit_lexical_baseline,
    render_report_md,
    score_lexical_baseline,
)
from ft_assets.evaluation.baseline import C_GRID

LABELS = ["refund", "delivery", "login"]
KEYWORDS = {0: "refund", 1: "parcel", 2: "password"}
FILLER = ["please", "help", "today", "my", "the", "now", "again", "urgent"]


def _split(n_per_class: int, offset: int) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for label, word in KEYWORDS.items():
        for i in range(n_per_class):
            j = offset + i
            texts.append(f"{FILLER[j % 8]} {word} {FILLER[(j * 3 + 1) % 8]} {j}")
            labels.append(label)
    return texts, labels


def test_words_that_decide_the_label_are_learned_and_c_comes_from_the_grid() -> None:
    train, validation, test = _split(20, 0), _split(5, 100), _split(6, 200)
    fit = fit_lexical_baseline(*train, *validation, test[0], len(LABELS))
    assert fit.predictions.tolist() == test[1]
    assert fit.c in C_GRID
    assert fit.validation_macro_f1 == pytest.approx(1.0)
    assert fit.n_train == 60 and fit.n_features > 0
    assert fit.probabilities.shape == (18, 3)
    assert fit.probabilities.sum(axis=1) == pytest.approx([1.0] * 18)


def test_without_validation_rows_it_fits_c_1() -> None:
    train, test = _split(10, 0), _split(2, 50)
    fit = fit_lexical_baseline(*train, [], [], test[0], len(LABELS))
    assert fit.c == 1.0
    assert fit.predictions.tolist() == test[1]


def test_a_label_missing_from_train_gets_a_zero_probability_column() -> None:
    texts, labels = _split(10, 0)
    keep = [i for i, label in enumerate(labels) if label != 1]
    fit = fit_lexical_baseline(
        [texts[i] for i in keep], [labels[i] for i in keep], [], [], ["refund please"], len(LABELS)
    )
    assert fit.probabilities.shape == (1, 3)
    assert fit.probabilities[0, 1] == 0.0
    assert fit.predictions.tolist() == [0]


def test_empty_train_split_is_refused() -> None:
    with pytest.raises(ValueError, match="empty train split"):
        fit_lexical_baseline([], [], [], [], ["x"], 2)


def _with_baseline(model_pred: list[int]) -> EvaluationReport:
    train, validation, test = _split(20, 0), _split(5, 100), _split(4, 200)
    texts, truth = test
    proba = [[1.0 if j == p else 0.0 for j in range(3)] for p in model_pred]
    report = compute_report(truth, model_pred, proba, LABELS, texts)
    fit = fit_lexical_baseline(*train, *validation, texts, len(LABELS))
    return dataclasses.replace(report, lexical_baseline=score_lexical_baseline(fit, truth, LABELS, texts))


def test_report_json_and_markdown_show_model_baseline_and_margin() -> None:
    truth = _split(4, 200)[1]
    worse = [truth[0], *truth[1:-3], 0, 0, 0]  # three "login" texts called "refund"
    report = _with_baseline(worse)
    body = report.to_json_dict()
    assert body["lexical_baseline"]["accuracy"] == pytest.approx(1.0)
    assert body["lexical_baseline"]["macro_f1"] == pytest.approx(1.0)
    assert body["margin_over_lexical_baseline"]["accuracy"] == pytest.approx(9 / 12 - 1.0)
    assert body["margin_over_lexical_baseline"]["macro_f1"] == pytest.approx(report.macro_f1 - 1.0)
    md = render_report_md(report, model_version="m", data_version="d", base_model="b", label_names=LABELS)
    assert "| **fine-tuned model** | 0.7500 |" in md
    assert "| TF-IDF word 1-2 grams + logistic regression (C=" in md
    assert "| majority class (always `refund`) | 0.3333 | 0.1667 |" in md
    assert "The fine-tuned model does NOT beat the TF-IDF baseline: macro F1 -0." in md


def test_markdown_says_beats_when_the_model_is_better() -> None:
    report = _with_baseline(_split(4, 200)[1])
    # Both perfect: equal is not better.
    assert "does NOT beat" in render_report_md(
        report, model_version="m", data_version="d", base_model="b", label_names=LABELS
    )
    lexical = dataclasses.replace(report.lexical_baseline, macro_f1=0.5, accuracy=0.6)
    better = dataclasses.replace(report, lexical_baseline=lexical)
    md = render_report_md(better, model_version="m", data_version="d", base_model="b", label_names=LABELS)
    assert "The fine-tuned model beats the TF-IDF baseline: macro F1 +0.5000, accuracy +0.4000." in md
