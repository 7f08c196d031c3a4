"""Linear probe, then fine-tune (LP-FT): the new head starts fitted to the pre-trained features.

A randomly initialised head sends random-direction gradients into the encoder for the first hundreds
of steps, and those steps move the pre-trained features furthest from where they were; that distortion
costs most on inputs unlike the training rows (Kumar et al., "Fine-Tuning can Distort Pretrained
Features and Underperform Out-of-Distribution", ICLR 2022). Fitting the head first, by logistic
regression on the frozen encoder's own outputs, costs one inference pass over the train split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from threadpoolctl import threadpool_limits
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ft_assets.training.data import PreparedSplit
from ft_assets.training.features import cache_head_inputs, head_of
from ft_resources.accelerator import DeviceSettings

# Iterations of lbfgs; scaled features of a few thousand rows converge in well under this.
MAX_ITERATIONS = 1000
# Inverse regularisation strengths tried, chosen by cross-validated log loss. Too weak a penalty lets the
# probe fit the train rows perfectly (BBC headlines: train accuracy 1.0 at C=1), and a head already at
# zero loss leaves fine-tuning almost no gradient to adapt the encoder with.
STRENGTHS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
FOLDS = 5
# Rows the probe reads at most. A few thousand rows pin down a linear head on a few hundred features,
# while the encoder pass over every row of a large train split costs minutes (SST-2's 63,938 rows:
# 89 s of a 390 s run on 2 cores). benchmarks/bench_probe_rows.py measures what the sample costs.
MAX_ROWS = 8192


@dataclass(frozen=True)
class ProbeFit:
    train_accuracy: float
    strength: float  # the inverse regularisation strength C the cross-validation chose
    rows: int  # train rows the probe was fitted on (a sample when train has more than MAX_ROWS)


def fit_head(
    model: PreTrainedModel,
    train: PreparedSplit,
    tokenizer: PreTrainedTokenizerBase,
    device: DeviceSettings,
    batch_size: int,
    seed: int,
    max_rows: int = MAX_ROWS,
) -> ProbeFit:
    """Fit ``model``'s linear head to the frozen encoder's outputs on ``train`` (on a class-stratified
    sample of about ``max_rows`` rows, drawn with ``seed``, when train has more).

    The encoder is untouched. Features are centred and scaled for the fit and that is folded back
    into the head's weight and bias, so the head reads the raw features as before.
    """
    head = head_of(model)
    if not isinstance(head, torch.nn.Linear):
        raise ValueError(
            f"linear_probe needs a single linear head; {type(model).__name__}'s head is "
            f"{type(head).__name__}. Set linear_probe=false."
        )
    num_labels = head.out_features
    present = np.unique(train.labels)
    if len(present) != num_labels:
        raise ValueError(
            f"linear_probe needs every label in the train split; it has {len(present)} of {num_labels}. "
            "Set linear_probe=false."
        )
    train = sample_rows(train, max_rows, seed)
    cached = cache_head_inputs(model, train, tokenizer, device, batch_size)
    features = np.asarray(cached.with_format("numpy")["features"][:], dtype=np.float64)
    # One scale for every dimension: per-dimension standardising blows up near-constant dimensions
    # (MiniLM has some) into huge weights once folded back.
    mean = features.mean(axis=0)
    scale = float(np.sqrt(((features - mean) ** 2).mean())) or 1.0
    scaled = (features - mean) / scale
    # One BLAS thread: next to torch's spinning OpenMP workers, OpenBLAS's own threads made the
    # cross-validation 10x slower here (6.5 s against 0.7 s on 5,690 SST-2 rows, 2 cores).
    with threadpool_limits(limits=1, user_api="blas"):
        probe, strength = logistic_regression(scaled, train.labels)
    coef, intercept = probe.coef_, probe.intercept_
    if num_labels == 2:
        # sklearn keeps one logit difference for two classes; split it evenly so softmax agrees.
        coef = np.stack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    weight = coef / scale
    bias = intercept - weight @ mean
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight, dtype=head.weight.dtype))
        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))
    # Not probe.score: LogisticRegressionCV scores with its CV scoring (log loss), not accuracy.
    accuracy = float(np.mean(probe.predict(scaled) == train.labels))
    return ProbeFit(accuracy, strength, len(train.labels))


def sample_rows(split: PreparedSplit, max_rows: int, seed: int) -> PreparedSplit:
    """``split`` itself when it has at most ``max_rows`` rows, else a sample of about that many in which
    each class keeps its share, and at least the rows the cross-validation folds need."""
    total = len(split.labels)
    if total <= max_rows:
        return split
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(split.labels):
        rows = np.flatnonzero(split.labels == label)
        keep = max(min(len(rows), FOLDS), round(max_rows * len(rows) / total))
        chosen.append(rng.choice(rows, size=keep, replace=False))
    indices = np.sort(np.concatenate(chosen))
    return PreparedSplit(
        dataset=split.dataset.select(indices.tolist()),
        lengths=[split.lengths[i] for i in indices],
        labels=split.labels[indices],
    )


def logistic_regression(
    features: np.ndarray, labels: np.ndarray
) -> tuple[LogisticRegression | LogisticRegressionCV, float]:
    """L2 logistic regression and its C, chosen by cross-validated log loss where every class has rows
    enough for the folds."""
    folds = min(FOLDS, int(np.bincount(labels).min()))
    if folds < 2:
        # A class with a single row cannot be cross-validated; the middle strength is a safe guess.
        strength = STRENGTHS[len(STRENGTHS) // 2]
        return LogisticRegression(C=strength, max_iter=MAX_ITERATIONS).fit(features, labels), strength
    probe = LogisticRegressionCV(
        Cs=STRENGTHS,
        cv=folds,
        scoring="neg_log_loss",
        max_iter=MAX_ITERATIONS,
        l1_ratios=(0.0,),
        use_legacy_attributes=False,
    ).fit(features, labels)
    return probe, float(probe.C_)
