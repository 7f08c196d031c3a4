"""validated_examples + quarantined_examples: the Great Expectations gate, with asset checks."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd
from pydantic import Field

from ft_assets.assets.metadata import class_counts, counts_md, md_table
from ft_assets.validation.outcome import ValidationOutcome
from ft_assets.validation.rules import ValidationRules
from ft_assets.validation.suite import validate_examples

ROW_RULES = ("text_not_blank", "text_length", "label_allowed", "label_conflict")
QUARANTINE_COLUMNS = ["text", "label", "source_file", "source_line", "reason", "rule"]


class ValidationConfig(dg.Config):
    min_text_chars: int = Field(default=1, description="Shortest accepted text, in characters.")
    max_text_chars: int = Field(default=5000, description="Longest accepted text, in characters.")
    allowed_labels: list[str] | None = Field(
        default=None,
        description="Accepted labels. Empty: every label seen at least min_examples_per_class times.",
    )
    min_examples_per_class: int = Field(
        default=10, description="Fewer valid examples than this for a class stops training."
    )
    max_quarantine_fraction: float = Field(
        default=0.2, description="A batch with more of its rows quarantined than this stops training."
    )


def _split_ingest_errors(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    broken = raw["ingest_error"].notna()
    rejected = raw.loc[broken, ["text", "label", "source_file", "source_line"]].copy()
    rejected["reason"] = raw.loc[broken, "ingest_error"].map(lambda e: f"unreadable record: {e}")
    rejected["rule"] = "ingest"
    return raw.loc[~broken].drop(columns=["ingest_error"]).reset_index(drop=True), rejected


def _row_check_passes(rule: str, valid: pd.DataFrame, rules: ValidationRules) -> bool:
    """Re-verify the published frame independently of the GX run that produced it."""
    text = valid["text"].fillna("")
    if rule == "text_not_blank":
        return bool(text.str.strip().ne("").all())
    if rule == "text_length":
        lengths = text.str.strip().str.len()
        return bool(lengths.between(rules.min_text_chars, rules.max_text_chars).all())
    if rule == "label_allowed":
        return bool(valid["label"].isin(rules.allowed_labels or valid["label"].unique()).all())
    normalised = text.str.lower().str.split().str.join(" ")
    return bool(valid.groupby(normalised)["label"].nunique().le(1).all())


@dg.multi_asset(
    group_name="data",
    code_version="1",
    outs={
        "validated_examples": dg.AssetOut(
            kinds={"pandas", "great_expectations"},
            description=(
                "Rows of raw_examples that pass the Great Expectations suite: non-blank text of bounded "
                "length, an allowed label, and no text carrying two labels."
            ),
        ),
        "quarantined_examples": dg.AssetOut(
            kinds={"pandas", "great_expectations"},
            description="Rows of raw_examples that failed validation, each with its source and a reason.",
        ),
    },
    check_specs=[
        *[
            dg.AssetCheckSpec(rule, asset="validated_examples", description=f"No row breaks {rule}.")
            for rule in ROW_RULES
        ],
        dg.AssetCheckSpec(
            "min_examples_per_class",
            asset="validated_examples",
            blocking=True,
            description="At least two classes, each with enough valid examples to train on.",
        ),
        dg.AssetCheckSpec(
            "quarantine_rate",
            asset="validated_examples",
            blocking=True,
            description="A batch that is mostly broken must not reach training.",
        ),
    ],
)
def validate_raw_examples(
    context: dg.AssetExecutionContext, config: ValidationConfig, raw_examples: pd.DataFrame
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    readable, unreadable = _split_ingest_errors(raw_examples)
    rules = ValidationRules(
        min_text_chars=config.min_text_chars,
        max_text_chars=config.max_text_chars,
        allowed_labels=tuple(config.allowed_labels) if config.allowed_labels else None,
        min_examples_per_class=config.min_examples_per_class,
    )
    outcome = validate_examples(readable, rules)
    valid = outcome.valid.reset_index(drop=True)
    quarantined = pd.concat([unreadable, outcome.quarantined], ignore_index=True)[QUARANTINE_COLUMNS]
    if len(valid) + len(quarantined) != len(raw_examples):
        raise dg.Failure(
            f"row accounting broke: {len(raw_examples)} in, {len(valid)} + {len(quarantined)} out"
        )
    reasons = class_counts(quarantined, "rule") if len(quarantined) else {}
    context.log.info(f"{len(valid):,} valid, {len(quarantined):,} quarantined {reasons}")
    expectations = [
        {
            "rule": e.name,
            "expectation": e.expectation_type,
            "success": e.success,
            "unexpected": e.unexpected_count,
            "checked": e.element_count,
        }
        for e in outcome.expectations
    ]
    yield dg.Output(
        valid,
        output_name="validated_examples",
        metadata={
            "row_count": dg.MetadataValue.int(len(valid)),
            "class_balance": counts_md(outcome.class_counts),
            "allowed_labels": dg.MetadataValue.json(list(outcome.allowed_labels)),
            "expectations": md_table(
                expectations, ["rule", "expectation", "success", "unexpected", "checked"]
            ),
        },
    )
    yield dg.Output(
        quarantined,
        output_name="quarantined_examples",
        metadata={
            "row_count": dg.MetadataValue.int(len(quarantined)),
            "reasons": counts_md(reasons, key="rule")
            if reasons
            else dg.MetadataValue.md("nothing quarantined"),
            "sample": md_table(
                quarantined.head(20).to_dict("records"), ["source_file", "source_line", "reason"]
            )
            if len(quarantined)
            else dg.MetadataValue.md("nothing quarantined"),
        },
    )
    yield from _check_results(valid, quarantined, outcome, rules, config, len(raw_examples))


def _check_results(
    valid: pd.DataFrame,
    quarantined: pd.DataFrame,
    outcome: ValidationOutcome,
    rules: ValidationRules,
    config: ValidationConfig,
    total: int,
) -> Iterator[dg.AssetCheckResult]:
    published_rules = ValidationRules(
        min_text_chars=rules.min_text_chars,
        max_text_chars=rules.max_text_chars,
        allowed_labels=outcome.allowed_labels,
        min_examples_per_class=rules.min_examples_per_class,
    )
    for rule in ROW_RULES:
        yield dg.AssetCheckResult(
            check_name=rule,
            asset_key="validated_examples",
            passed=_row_check_passes(rule, valid, published_rules),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantined_by_rule": dg.MetadataValue.int(int((quarantined["rule"] == rule).sum()))},
        )
    short = dict(outcome.classes_below_minimum)
    enough_classes = len(outcome.class_counts) >= 2
    yield dg.AssetCheckResult(
        check_name="min_examples_per_class",
        asset_key="validated_examples",
        passed=not short and enough_classes,
        metadata={
            "classes": counts_md(outcome.class_counts),
            "problem": dg.MetadataValue.text(
                ("" if enough_classes else "fewer than two classes; ")
                + "; ".join(f"{k}: {v} < {rules.min_examples_per_class}" for k, v in short.items())
                or "none"
            ),
        },
    )
    fraction = len(quarantined) / total if total else 0.0
    yield dg.AssetCheckResult(
        check_name="quarantine_rate",
        asset_key="validated_examples",
        passed=fraction <= config.max_quarantine_fraction,
        metadata={
            "quarantined_fraction": dg.MetadataValue.float(round(fraction, 4)),
            "limit": dg.MetadataValue.float(config.max_quarantine_fraction),
        },
    )
