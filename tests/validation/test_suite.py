"""Behaviour of the GX validation suite: which rows are quarantined, why, and what is reported."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import great_expectations as gx
import pandas as pd
import pytest

from ft_assets.validation.gx_runner import shared_runner
from ft_assets.validation.outcome import ValidationOutcome
from ft_assets.validation.rules import RULES, ValidationRules
from ft_assets.validation.suite import validate_examples

SOURCE = "support.csv"
FIRST_LINE = 2  # line 1 is the header


def frame(rows: list[tuple[Any, Any]], **extra: list[Any]) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "text": pd.Series([t for t, _ in rows], dtype=object),
            "label": pd.Series([label for _, label in rows], dtype=object),
            "source_file": SOURCE,
            "source_line": range(FIRST_LINE, FIRST_LINE + len(rows)),
        }
    )
    for column, values in extra.items():
        df[column] = values
    return df


def clean_rows(
    per_class: int = 10, labels: tuple[str, ...] = ("billing", "shipping")
) -> list[tuple[Any, Any]]:
    return [(f"{label} question number {i}", label) for label in labels for i in range(per_class)]


def line_of(df: pd.DataFrame, text: Any) -> int:
    return int(df.loc[df["text"] == text, "source_line"].iloc[0])


def assert_conserved(df: pd.DataFrame, out: ValidationOutcome) -> None:
    """Every input row ends up in exactly one of valid / quarantined, with its columns intact."""
    assert len(out.valid) + len(out.quarantined) == len(df)
    columns = [c for c in df.columns if c != "ingest_error"]
    assert list(out.valid.columns) == columns
    assert list(out.quarantined.columns) == [*columns, "reason", "rule"]
    lines = [*out.valid["source_line"], *out.quarantined["source_line"]]
    assert sorted(lines) == sorted(df["source_line"])
    assert list(out.valid.index) == list(range(len(out.valid)))
    assert list(out.quarantined.index) == list(range(len(out.quarantined)))


def quarantined_row(out: ValidationOutcome, line: int) -> dict[str, Any]:
    hits = out.quarantined[out.quarantined["source_line"] == line]
    assert len(hits) == 1, f"line {line} should be quarantined once, found {len(hits)}"
    return hits.iloc[0].to_dict()


def test_clean_frame_passes_every_expectation() -> None:
    df = frame(clean_rows()).set_axis(range(100, 120))  # a non-default index must not matter
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    assert out.quarantined.empty
    pd.testing.assert_frame_equal(out.valid, df.reset_index(drop=True))
    assert out.success
    assert [r.name for r in out.reports] == [rule.name for rule in RULES]
    assert all(r.success and r.unexpected == 0 and not r.blocking for r in out.reports)
    assert out.report("text_not_blank").checked == 20
    assert out.report("text_not_blank").expectations == ("expect_column_values_to_not_be_null",)
    assert out.allowed_labels == ("billing", "shipping")
    assert out.class_counts == {"billing": 10, "shipping": 10}
    assert out.classes_below_minimum == {}


def test_missing_or_blank_text_is_quarantined() -> None:
    cases = [(None, "text is missing"), (float("nan"), "text is missing"), ("", "text is blank")]
    cases.append((" \t\n ", "text is blank"))
    df = frame([*clean_rows(), *[(text, "billing") for text, _ in cases]])
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    for offset, (_, reason) in enumerate(cases):
        row = quarantined_row(out, FIRST_LINE + 20 + offset)
        assert (row["rule"], row["reason"]) == ("text_not_blank", reason)
    assert len(out.quarantined) == len(cases)
    summary = out.report("text_not_blank")
    assert (summary.success, summary.unexpected, summary.quarantined) == (False, len(cases), len(cases))
    assert out.report("text_length").unexpected == 0  # GX leaves missing values out of length rules
    assert not out.success


def test_text_length_is_measured_after_stripping() -> None:
    rules = ValidationRules(min_text_chars=3, max_text_chars=50)
    too_long, at_limit, too_short = "x" * 51, "   " + "y" * 50 + "   ", "  ab "
    df = frame([*clean_rows(), (too_long, "billing"), (at_limit, "billing"), (too_short, "shipping")])
    out = validate_examples(df, rules)
    assert_conserved(df, out)
    assert quarantined_row(out, line_of(df, too_long))["reason"] == "text length 51 exceeds max_text_chars=50"
    assert quarantined_row(out, line_of(df, too_short))["reason"] == "text length 2 is below min_text_chars=3"
    assert set(out.quarantined["rule"]) == {"text_length"}
    assert at_limit in set(out.valid["text"])
    assert out.report("text_length").unexpected == 2


def test_label_outside_explicit_allowed_set() -> None:
    rules = ValidationRules(allowed_labels=["billing", "shipping"])
    df = frame([*clean_rows(), ("can I get a refund?", "refunds"), ("no label here", None)])
    out = validate_examples(df, rules)
    assert_conserved(df, out)
    assert out.allowed_labels == ("billing", "shipping")
    refund = quarantined_row(out, line_of(df, "can I get a refund?"))
    assert refund["rule"] == "label_allowed"
    assert refund["reason"] == "label 'refunds' is not in the allowed set ['billing', 'shipping']"
    assert quarantined_row(out, line_of(df, "no label here"))["rule"] == "label_present"
    assert quarantined_row(out, line_of(df, "no label here"))["reason"] == "label is missing"
    assert out.report("label_allowed").unexpected == 1


def test_inferred_allowed_set_quarantines_a_rare_label() -> None:
    # "refunds" has 10 rows, but one has blank text, so only 9 count towards the minimum of 10.
    refunds = [(f"refund please {i}", "refunds") for i in range(9)] + [("   ", "refunds")]
    df = frame([*clean_rows(), ("???", "unknown"), ("what is this", "unknown"), *refunds])
    out = validate_examples(df, ValidationRules(min_examples_per_class=10))
    assert_conserved(df, out)
    assert out.allowed_labels == ("billing", "shipping")
    unknown = quarantined_row(out, line_of(df, "???"))
    assert unknown["rule"] == "label_allowed"
    assert "label 'unknown' is not in the allowed set ['billing', 'shipping']" in unknown["reason"]
    assert "inferred: seen 2 times, below min_examples_per_class=10" in unknown["reason"]
    assert "seen 9 times" in quarantined_row(out, line_of(df, "refund please 0"))["reason"]
    assert out.quarantined["rule"].value_counts().to_dict() == {"label_allowed": 11, "text_not_blank": 1}
    assert out.class_counts == {"billing": 10, "shipping": 10}


def test_conflicting_labels_quarantine_every_row_of_the_text() -> None:
    first, variant, repeat = "Where is my parcel?", "  where IS   my parcel? ", "Where is my parcel?"
    df = frame([*clean_rows(), (first, "billing"), (variant, "shipping"), (repeat, "billing")])
    df.loc[df.index[-1], "source_file"] = "other.csv"
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    first_line, variant_line = FIRST_LINE + 20, FIRST_LINE + 21
    assert set(out.quarantined["rule"]) == {"label_conflict"}
    assert len(out.quarantined) == 3
    assert (
        quarantined_row(out, first_line)["reason"]
        == f"text also labelled 'shipping' at {SOURCE}:{variant_line}"
    )
    assert (
        quarantined_row(out, variant_line)["reason"]
        == f"text also labelled 'billing' at {SOURCE}:{first_line}"
    )
    assert "'shipping' at support.csv" in quarantined_row(out, FIRST_LINE + 22)["reason"]
    summary = out.report("label_conflict")
    assert (summary.success, summary.unexpected) == (False, 3)


def test_same_text_with_the_same_label_is_not_a_conflict() -> None:
    df = frame([*clean_rows(), ("Track my order", "shipping"), ("track  my ORDER", "shipping")])
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    assert out.quarantined.empty
    assert out.class_counts == {"billing": 10, "shipping": 12}


def test_class_below_minimum_is_reported_without_quarantining_rows() -> None:
    rules = ValidationRules(allowed_labels=["billing", "shipping", "returns"], min_examples_per_class=10)
    df = frame(
        [*clean_rows(per_class=10, labels=("billing",)), *clean_rows(per_class=4, labels=("shipping",))]
    )
    out = validate_examples(df, rules)
    assert_conserved(df, out)
    assert out.quarantined.empty
    assert out.class_counts == {"billing": 10, "shipping": 4, "returns": 0}
    assert out.classes_below_minimum == {"shipping": 4, "returns": 0}
    summary = out.report("min_examples_per_class")
    assert (summary.success, summary.blocking, summary.unexpected, summary.checked) == (False, True, 2, 3)
    assert summary.details == ("'shipping': 4 < 10", "'returns': 0 < 10")
    assert not out.success


def test_a_row_failing_several_rules_is_quarantined_once_under_the_first() -> None:
    rules = ValidationRules(max_text_chars=40, allowed_labels=["billing", "shipping"])
    df = frame([*clean_rows(), ("   ", "unknown"), ("z" * 50, "unknown"), ("z" * 50, "billing")])
    out = validate_examples(df, rules)
    assert_conserved(df, out)
    assert list(out.quarantined["rule"]) == ["text_not_blank", "text_length", "text_length"]
    assert out.report("label_allowed").unexpected == 0
    assert out.report("label_conflict").unexpected == 0


def test_samples_are_capped_at_ten_and_counts_are_complete() -> None:
    df = frame([*clean_rows(), *[("  ", "billing")] * 15])
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    summary = out.report("text_not_blank")
    assert summary.unexpected == 15
    assert summary.details == tuple(f"{SOURCE}:{line}: text is blank" for line in range(22, 32))


def test_ingest_errors_are_quarantined_with_the_readers_message() -> None:
    df = frame(
        [*clean_rows(), ("{bad json", None)], ingest_error=[None] * 20 + ["malformed JSON at column 2"]
    )
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    row = quarantined_row(out, FIRST_LINE + 20)
    assert (row["rule"], row["reason"]) == ("record_parsed", "unreadable record: malformed JSON at column 2")
    assert out.report("record_parsed").unexpected == 1


def test_empty_frame_validates_to_empty_outcome() -> None:
    df = frame([])
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    assert out.allowed_labels == ()
    assert out.class_counts == {}


def test_missing_columns_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"missing column\(s\) \['source_line'\]"):
        validate_examples(frame(clean_rows()).drop(columns="source_line"), ValidationRules())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_text_chars": -1},
        {"min_text_chars": 10, "max_text_chars": 5},
        {"min_examples_per_class": 0},
        {"allowed_labels": ["a", "a"]},
        {"max_quarantine_fraction": 1.5},
    ],
)
def test_inconsistent_rules_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ValidationRules(**kwargs)


def test_an_empty_allowed_set_means_inferred() -> None:
    assert ValidationRules(allowed_labels=[]).allowed_labels is None


def test_labels_are_compared_as_normalised_strings() -> None:
    rules = ValidationRules(allowed_labels=["0", "1.0"], min_examples_per_class=1)
    df = frame([("good film", 1), ("bad film", 0.0), ("odd film", 2)])
    out = validate_examples(df, rules)
    assert_conserved(df, out)
    assert out.class_counts == {"0": 1, "1": 1}
    assert list(out.quarantined["label"]) == [2]  # the input value is kept as it was


def test_texts_equal_after_unicode_normalisation_conflict() -> None:
    # NFKC + casefold, as the split hash does: "Straße" and "STRASSE" are the same example.
    df = frame([*clean_rows(), ("Versand nach Straße", "shipping"), ("VERSAND  NACH STRASSE", "billing")])
    out = validate_examples(df, ValidationRules())
    assert_conserved(df, out)
    assert list(out.quarantined["rule"]) == ["label_conflict", "label_conflict"]


def test_a_crashing_expectation_is_an_error_not_a_verdict() -> None:
    broken = gx.expectations.ExpectColumnValuesToNotBeNull(column="no_such_column", meta={"rule": "x"})
    with pytest.raises(RuntimeError, match="no_such_column"):
        shared_runner().validate(pd.DataFrame({"text": ["a"]}), [broken])


def test_reports_are_json_serialisable_for_metadata() -> None:
    out = validate_examples(frame([*clean_rows(), ("  ", "billing")]), ValidationRules())
    payload = json.loads(json.dumps([dataclasses.asdict(report) for report in out.reports]))
    assert payload[1]["name"] == "text_not_blank"
    assert payload[1]["details"] == [f"{SOURCE}:22: text is blank"]
