"""validated_examples + quarantined_examples: the Great Expectations gate, with one asset check per rule."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from ft_assets.assets.metadata import class_counts, counts_md, md_table
from ft_assets.validation.outcome import RuleReport
from ft_assets.validation.rules import RULES, ValidationRules
from ft_assets.validation.suite import validate_examples


class ValidationConfig(dg.Config, ValidationRules):
    """The rule settings of `ft_assets.validation.rules.ValidationRules`, editable in the Launchpad."""


def _check(report: RuleReport) -> dg.AssetCheckResult:
    metadata: dict[str, dg.RawMetadataValue] = {
        "expectations": dg.MetadataValue.json(list(report.expectations)),
        "unexpected": dg.MetadataValue.int(report.unexpected),
        "quarantined_rows": dg.MetadataValue.int(report.quarantined),
        "findings": dg.MetadataValue.md("\n".join(f"- {d}" for d in report.details) or "none"),
        **report.figures,
    }
    return dg.AssetCheckResult(
        check_name=report.name,
        asset_key="validated_examples",
        passed=report.success,
        severity=dg.AssetCheckSeverity.ERROR if report.blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


@dg.multi_asset(
    group_name="data",
    # 4: invisible characters make a text blank and leave its key; `@mention (...)` is not a formula
    code_version="4",
    outs={
        "validated_examples": dg.AssetOut(
            kinds={"pandas", "great_expectations"},
            description="Rows of raw_examples that pass every rule of the Great Expectations suite, labels "
            "normalised.",
        ),
        "quarantined_examples": dg.AssetOut(
            kinds={"pandas", "great_expectations"},
            description="Rows of raw_examples that failed validation, as read, each with its source, rule "
            "and reason.",
        ),
    },
    check_specs=[
        dg.AssetCheckSpec(
            rule.name,
            asset="validated_examples",
            blocking=rule.severity == "block",
            description=rule.description,
        )
        for rule in RULES
    ],
)
def validate_raw_examples(
    context: dg.AssetExecutionContext, config: ValidationConfig, raw_examples: pd.DataFrame
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    outcome = validate_examples(raw_examples, config)
    valid, quarantined = outcome.valid, outcome.quarantined
    reasons = class_counts(quarantined, "rule") if len(quarantined) else {}
    context.log.info(f"{len(valid):,} valid, {len(quarantined):,} quarantined {reasons}")
    results = [
        {
            "rule": r.name,
            "severity": r.severity,
            "success": r.success,
            "unexpected": r.unexpected,
            "checked": r.checked,
        }
        for r in outcome.reports
    ]
    # Quarantine first: a run killed between the two outputs then keeps its rejected rows (raw_examples
    # still holds the valid ones), where the other order would lose them until the raw data changed.
    yield dg.Output(
        quarantined,
        output_name="quarantined_examples",
        metadata={
            "row_count": dg.MetadataValue.int(len(quarantined)),
            "reasons": counts_md(reasons, key="rule"),
            "sample": md_table(
                quarantined.head(20).to_dict("records"), ["source_file", "source_line", "reason"]
            ),
        },
    )
    yield dg.Output(
        valid,
        output_name="validated_examples",
        metadata={
            "row_count": dg.MetadataValue.int(len(valid)),
            "class_balance": counts_md(outcome.class_counts),
            "allowed_labels": dg.MetadataValue.json(list(outcome.allowed_labels)),
            "expectations": md_table(results, ["rule", "severity", "success", "unexpected", "checked"]),
        },
    )
    yield from (_check(report) for report in outcome.reports)
