"""Fixtures for the evaluation tests."""

from __future__ import annotations

import pytest

from ft_assets.evaluation import EvaluationReport, compute_report
from tests.evaluation.cases import LABELS, Y_PRED, Y_TRUE, peaked_probabilities


@pytest.fixture
def hand_report() -> EvaluationReport:
    confidences = [0.9, 0.8, 0.7, 0.95, 0.6, 0.65, 0.85, 0.5, 0.55, 0.99]
    texts = [f"text {i}" for i in range(len(Y_TRUE))]
    return compute_report(Y_TRUE, Y_PRED, peaked_probabilities(Y_PRED, 3, confidences), LABELS, texts)
