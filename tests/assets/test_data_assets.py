import json
from pathlib import Path

import dagster as dg
import pandas as pd
from datasets import load_from_disk

from ft_assets.definitions import DATA_ASSETS
from tests.assets.conftest import data_run_config, make_rows, write_csv, write_jsonl


def materialize(instance, resources, data_dir, **ops):
    return dg.materialize(
        DATA_ASSETS,
        instance=instance,
        resources=resources,
        run_config=data_run_config(data_dir, **ops),
        raise_on_error=False,
    )


def latest(instance, key, resources):
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    uri = event.asset_materialization.metadata["path"].value
    return pd.read_parquet(uri) if uri.endswith(".parquet") else json.loads(Path(uri).read_text())


def test_data_assets_materialize_and_conserve_rows(instance, resources, data_dir):
    with (data_dir / "batch2.jsonl").open("a") as handle:
        handle.write('{"text": "   ", "label": "billing"}\n{"text": "broken\n')
        handle.write(json.dumps({"text": "what is this", "label": "unknown"}) + "\n")
    result = materialize(instance, resources, data_dir)
    assert result.success
    raw = latest(instance, "raw_examples", resources)
    valid = latest(instance, "validated_examples", resources)
    quarantined = latest(instance, "quarantined_examples", resources)
    assert len(raw) == 153
    assert len(valid) + len(quarantined) == len(raw)
    assert set(quarantined["rule"]) == {"text_not_blank", "record_parsed", "label_allowed"}
    assert quarantined["reason"].str.len().gt(0).all()
    assert quarantined["source_file"].eq("batch2.jsonl").all()

    splits = latest(instance, "dataset_splits", resources)
    assert set(splits["split"]) == {"train", "validation", "test"}
    assert splits.groupby(splits["text"].str.lower())["split"].nunique().max() == 1

    manifest = latest(instance, "tokenized_dataset", resources)
    dataset = load_from_disk(manifest["path"])
    assert sum(len(dataset[s]) for s in dataset) == len(valid)
    assert manifest["label_names"] == ["billing", "shipping", "technical"]
    assert {"input_ids", "attention_mask", "labels", "text"} <= set(dataset["train"].column_names)
    lengths = {len(ids) for ids in dataset["train"]["input_ids"]}
    assert len(lengths) > 1, "rows must not be padded to one length"

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["min_examples_per_class"].passed and checks["quarantine_rate"].passed
    blank = checks["text_not_blank"]
    assert not blank.passed and blank.severity == dg.AssetCheckSeverity.WARN
    assert "batch2.jsonl:31: text is blank" in blank.metadata["findings"].value
    raw_metadata = result.asset_materializations_for_node("raw_examples")[0].metadata
    assert raw_metadata["rows_per_file"].value == {"batch1.csv": 120, "batch2.jsonl": 33}


def test_adding_data_never_moves_existing_examples(instance, resources, data_dir):
    assert materialize(instance, resources, data_dir).success
    before = latest(instance, "dataset_splits", resources).set_index("text")["split"]
    write_csv(data_dir / "batch3.csv", make_rows(30, seed=3, prefix="new "))
    assert materialize(instance, resources, data_dir).success
    after = latest(instance, "dataset_splits", resources).set_index("text")["split"]
    assert len(after) == len(before) + 90
    assert after.loc[before.index].equals(before)


def test_truncation_is_measured(instance, resources, data_dir):
    write_jsonl(data_dir / "long.jsonl", [{"text": "word " * 300, "label": "billing"}])
    result = materialize(instance, resources, data_dir, tokenized_dataset={"max_length": 16})
    assert result.success
    manifest = latest(instance, "tokenized_dataset", resources)
    dataset = load_from_disk(manifest["path"])
    assert max(len(ids) for s in dataset for ids in dataset[s]["input_ids"]) == 16
    rate = result.asset_materializations_for_node("tokenized_dataset")[0].metadata["truncation_rate"].value
    assert rate > 0


def test_a_mostly_broken_batch_fails_the_blocking_check(instance, resources, data_dir):
    write_jsonl(data_dir / "junk.jsonl", [{"text": " ", "label": "billing"}] * 60)
    result = materialize(instance, resources, data_dir)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["quarantine_rate"].passed
    assert instance.get_latest_materialization_event(dg.AssetKey("dataset_splits")) is None


def test_look_alike_labels_that_would_be_two_classes_stop_training(instance, resources, data_dir):
    write_jsonl(
        data_dir / "shouting.jsonl", [{"text": f"BILL {i} PLEASE", "label": "BILLING"} for i in range(12)]
    )
    (data_dir / "notes.txt").write_text("not data")
    (data_dir / "leak.csv").symlink_to(data_dir.parent / "elsewhere.csv")
    result = materialize(instance, resources, data_dir)
    raw = result.asset_materializations_for_node("raw_examples")[0].metadata
    assert "notes.txt" in raw["skipped_files"].value and "leak.csv" in raw["skipped_files"].value
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    variants = checks["label_variants"]
    assert not variants.passed and variants.severity == dg.AssetCheckSeverity.ERROR
    assert "separate classes ['BILLING', 'billing']" in variants.metadata["findings"].value
    assert instance.get_latest_materialization_event(dg.AssetKey("dataset_splits")) is None

    folded = materialize(instance, resources, data_dir, validate_raw_examples={"fold_label_case": True})
    assert folded.success
    assert latest(instance, "validated_examples", resources)["label"].value_counts()["billing"] == 62


def test_missing_column_fails_with_file_and_line(instance, resources, data_dir):
    (data_dir / "bad.csv").write_text("body,label\nhello,billing\n")
    result = materialize(instance, resources, data_dir)
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert "bad.csv: line 1: missing or ambiguous column" in str(failure.event_specific_data.error)


def test_class_missing_from_a_split_is_an_error_or_a_warning(instance, resources, data_dir):
    write_csv(data_dir / "rare.csv", [{"text": f"refund please {i}", "label": "refund"} for i in range(2)])
    strict = materialize(instance, resources, data_dir, validate_raw_examples={"min_examples_per_class": 2})
    failure = " ".join(str(e.event_specific_data.error) for e in strict.get_step_failure_events())
    assert "class missing from a split" in failure and "refund" in failure
    lenient = materialize(
        instance,
        resources,
        data_dir,
        validate_raw_examples={"min_examples_per_class": 2},
        dataset_splits={"on_missing_class": "warn"},
    )
    assert lenient.success
