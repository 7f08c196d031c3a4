"""prepare_split: model columns only, lengths, and clear errors for malformed splits."""

from __future__ import annotations

import datasets
import pytest

from ft_assets.training.data import prepare_split


def _dataset(input_ids: list[list[int]], labels: list[int]) -> datasets.DatasetDict:
    rows = {
        "input_ids": input_ids,
        "attention_mask": [[1] * len(ids) for ids in input_ids],
        "labels": labels,
        "text": [f"t{i}" for i in range(len(labels))],
        "length": [len(ids) for ids in input_ids],
    }
    return datasets.DatasetDict(train=datasets.Dataset.from_dict(rows))


def test_keeps_model_columns_and_measures_lengths_in_row_order():
    dataset = _dataset([[101, 5, 102], [101, 102], [101, 7, 8, 9, 102]], [0, 1, 2])
    dataset["train"] = dataset["train"].select([2, 0, 1])  # an indices mapping must be honoured
    split = prepare_split(dataset, "train", num_labels=3)
    assert split.dataset.column_names == ["input_ids", "attention_mask", "labels"]
    assert split.lengths == [5, 3, 2]
    assert split.labels.tolist() == [2, 0, 1]


def test_labels_outside_the_label_names_are_refused():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        prepare_split(_dataset([[1, 2], [1, 2]], [0, 2]), "train", num_labels=2)


def test_missing_split_or_columns_are_named():
    with pytest.raises(ValueError, match="no 'validation' split"):
        prepare_split(_dataset([[1]], [0]), "validation", num_labels=2)
    bare = datasets.DatasetDict(train=datasets.Dataset.from_dict({"input_ids": [[1]], "labels": [0]}))
    with pytest.raises(ValueError, match="attention_mask"):
        prepare_split(bare, "train", num_labels=2)
