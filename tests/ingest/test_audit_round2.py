"""Defects a second audit of ingest and validation reproduced: each row is accounted for, with its reason."""

from __future__ import annotations

import pytest

from ft_assets.ingest.readers import ReadOptions, read_bytes
from ft_assets.validation.rules import ValidationRules
from tests.ingest.test_hostile_data import at, clean_lines, ingest


def test_a_lone_surrogate_in_jsonl_costs_its_row_not_the_folder(tmp_path):
    lines = [f'{{"text": "fine message {i}", "label": "{"pos" if i % 2 else "neg"}"}}' for i in range(40)]
    lines.insert(3, '{"text": "hi \\ud800 there", "label": "pos"}')
    _, out = ingest(tmp_path / "raw", {"a.jsonl": "\n".join(lines) + "\n"})
    rule, reason = at(out, "a.jsonl", 4)
    assert rule == "record_parsed" and "not valid Unicode" in reason
    assert len(out.valid) == 40


def test_a_jsonl_object_with_a_field_twice_is_quarantined_not_resolved(tmp_path):
    lines = [f'{{"text": "fine message {i}", "label": "{"pos" if i % 2 else "neg"}"}}' for i in range(40)]
    lines.append('{"text": "refund please now", "label": "billing", "label": "shipping"}')
    _, out = ingest(tmp_path / "raw", {"a.jsonl": "\n".join(lines) + "\n"})
    assert at(out, "a.jsonl", 41) == (
        "record_parsed",
        "unreadable record: field 'label' appears twice in the object",
    )


def test_a_multi_line_record_with_the_wrong_field_count_is_rejected_whole():
    data = b'text,label\n"Parcel never arrived,\nbilling,shipping\nplease refund",shipping,urgent\nok,neg\n'
    records = read_bytes("a.csv", data, ReadOptions())
    # Lines 3 and 4 lie inside the record's quotes: no row may be cut out of them.
    assert list(zip(records.line, records.label, strict=True)) == [(2, None), (5, "neg")]
    assert records.error[0] == "expected 2 fields, found 3 (the record spans lines 2-4)"
    assert records.lines == len(records.line) + records.blank + records.joined


def test_label_map_targets_are_normalised_like_the_labels(tmp_path):
    rows = [f"bill text {i},bill" for i in range(12)] + [f"ship text {i},shipping" for i in range(12)]
    _, out = ingest(
        tmp_path / "raw",
        {"a.csv": "text,label\n" + "\n".join(rows) + "\n"},
        fold_label_case=True,
        label_map={"bill": "Billing"},
        allowed_labels=["Billing", "shipping"],
    )
    assert out.class_counts == {"billing": 12, "shipping": 12}
    assert out.quarantined.empty


def test_label_map_targets_spelled_as_numbers_are_one_class(tmp_path):
    rows = [f"one text {i},one" for i in range(12)] + [f"also one {i},1" for i in range(12)]
    rows += [f"zero text {i},0" for i in range(12)]
    _, out = ingest(
        tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(rows) + "\n"}, label_map={"one": "1.0"}
    )
    assert out.class_counts == {"0": 12, "1": 24}


@pytest.mark.parametrize("token", ["none", "N/A", ""])
def test_a_missing_label_token_in_allowed_labels_is_a_config_error(token):
    with pytest.raises(ValueError, match="allowed_labels"):
        ValidationRules(allowed_labels=["billing", "shipping", token])


def test_clean_lines_still_pass(tmp_path):
    _, out = ingest(tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(clean_lines()) + "\n"})
    assert out.quarantined.empty


def test_labels_that_differ_only_by_leading_zeros_are_variants(tmp_path):
    # `01.0` is read as the number 1, so `01` and `1` must not quietly be two classes either.
    rows = [f"first kind {i},1" for i in range(12)] + [f"first again {i},01" for i in range(12)]
    rows += [f"second kind {i},2" for i in range(12)] + ["rare spelling,002"]
    _, out = ingest(tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(rows) + "\n"})
    variants = out.report("label_variants")
    assert variants.blocking and any("separate classes ['01', '1']" in d for d in variants.details)
    assert "looks like a variant of '2'" in at(out, "a.csv", 38)[1]


def test_tweets_that_start_with_a_mention_are_not_formulas(tmp_path):
    tweets = ["@united | worst airline ever", "@delta (again) lost my bag", "@jetblue|thanks for the upgrade"]
    formulas = ["@SUM(A1:A3)", "\"@SUM(1+1)*cmd|' /C calc'!A0\"", "\"=cmd|' /C calc'!A0\""]
    lines = [*clean_lines(), *(f"{t},negative" for t in tweets), *(f"{f},positive" for f in formulas)]
    _, out = ingest(tmp_path / "raw", {"a.csv": "text,label\n" + "\n".join(lines) + "\n"})
    assert set(tweets) <= set(out.valid["text"])
    assert [at(out, "a.csv", n)[0] for n in (45, 46, 47)] == ["text_not_formula"] * 3
