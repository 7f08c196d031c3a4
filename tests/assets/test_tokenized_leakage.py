"""Held-out rows that reach the model as a train row's exact token ids are flagged, not silently scored."""

from pathlib import Path

import dagster as dg
import pandas as pd

from ft_assets.definitions import DATA_ASSETS
from ft_assets.tokenizing.dataset import build_dataset_dict
from ft_assets.tokenizing.leakage import find_leakage
from ft_resources.base_model import BaseModelSource
from tests.assets.conftest import data_run_config, write_csv

CHECK = "held_out_rows_unseen_in_train"


def test_texts_that_differ_only_in_what_the_tokenizer_normalises_are_found(tiny_model_dir: Path):
    frame = pd.DataFrame(
        [
            ("Great!", "billing", "train"),
            ("my parcel is late", "shipping", "train"),
            ("gréat !", "billing", "test"),  # accents stripped, "!" split off: the same ids as "Great!"
            ("the app crashes", "technical", "test"),
            ("where is my parcel", "shipping", "validation"),
        ],
        columns=["text", "label", "split"],
    )
    tokenizer = BaseModelSource(name_or_path=str(tiny_model_dir)).load_tokenizer()
    dataset, _ = build_dataset_dict(frame, tokenizer, ["billing", "shipping", "technical"], 16)
    leakage = find_leakage(dataset)
    assert leakage.rows == {"validation": 0, "test": 1}
    assert leakage.examples["test"] == ["gréat !"]


def test_the_check_warns_on_leaked_rows_and_passes_on_clean_data(instance, resources, data_dir: Path):
    result = dg.materialize(
        DATA_ASSETS, instance=instance, resources=resources, run_config=data_run_config(data_dir)
    )
    [clean] = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK]
    assert clean.passed
    # Pairs the split hash sees as two texts and the tokenizer as one: some land in different splits.
    pairs = [
        {"text": text, "label": label}
        for i in range(30)
        for label in ("billing", "shipping")
        for text in (f"{label} twin number {i}!", f"{label} twin number {i} !")
    ]
    write_csv(data_dir / "twins.csv", pairs)
    result = dg.materialize(
        DATA_ASSETS, instance=instance, resources=resources, run_config=data_run_config(data_dir)
    )
    assert result.success  # a warning, never a stop
    [leaked] = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK]
    assert not leaked.passed and leaked.severity == dg.AssetCheckSeverity.WARN
    rows = leaked.metadata["rows_with_train_token_ids"].value
    assert sum(rows.values()) > 0
    assert all(
        "twin number" in text for texts in leaked.metadata["examples"].value.values() for text in texts
    )
