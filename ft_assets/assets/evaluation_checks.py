"""Asset checks on evaluation_report: a fine-tuned model that a bag of words matches is not worth shipping."""

from typing import Any

import dagster as dg

BEATS_BASELINE_METRIC = "macro_f1"


@dg.asset_check(
    asset="evaluation_report",
    description=(
        "Warns when the fine-tuned model's test macro F1 does not exceed that of the TF-IDF + logistic "
        "regression baseline fitted on the model's own train split: the model costs far more to run than the "
        "bag of words it fails to beat. Warn level, so it never blocks; production_model's "
        "require_beats_baseline makes the promotion gate enforce it."
    ),
)
def beats_lexical_baseline(evaluation_report: dict[str, Any]) -> dg.AssetCheckResult:
    report = evaluation_report["report"]
    lexical = report.get("lexical_baseline")
    if lexical is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"problem": dg.MetadataValue.text("report has no lexical baseline; re-run evaluation")},
        )
    model, baseline = report[BEATS_BASELINE_METRIC], lexical[BEATS_BASELINE_METRIC]
    return dg.AssetCheckResult(
        passed=model > baseline,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            f"model_{BEATS_BASELINE_METRIC}": dg.MetadataValue.float(round(model, 4)),
            f"tfidf_baseline_{BEATS_BASELINE_METRIC}": dg.MetadataValue.float(round(baseline, 4)),
            "margin": dg.MetadataValue.float(round(model - baseline, 4)),
            "model_version": dg.MetadataValue.text(report["model_version"]),
        },
    )
