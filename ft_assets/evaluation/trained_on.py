"""The data a model was trained on, when it is scored on a newer tokenized_dataset.

Scoring a model on the current test split while its training is not re-run yet (new rows arrived, the
retrain failed, or an operator materialized only the downstream assets) is allowed when the encoding
matches (`same_encoding`). Two things keep that score honest: the test split must hold no text the model
was trained on (another split salt or fractions, or a change to the text key, moves train rows into
test), and a baseline set beside the model must learn from the same train split the model did.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from datasets import DatasetDict, load_from_disk

from ft_assets.validation.normalise import text_key
from ft_resources.artifact_store import ArtifactStore

EXAMPLES = 3


def trained_splits(
    store: ArtifactStore,
    fine_tuned_model: dict[str, Any],
    tokenized_dataset: dict[str, Any],
    current: DatasetDict,
    asset: str,
) -> DatasetDict:
    """The splits the model was trained on (``current``, the loaded tokenized_dataset, when it is that one),
    once the current test split is known to hold none of their train texts."""
    version = fine_tuned_model["tokenized_version"]
    if version == tokenized_dataset["version"]:
        return current
    try:
        trained = load_from_disk(str(store.local_path(dataset_path(fine_tuned_model))))
    except FileNotFoundError:
        raise dg.Failure(
            description=(
                f"{asset}: fine_tuned_model {fine_tuned_model['model_version']} was trained on "
                f"tokenized_dataset {version}, which is no longer stored, so which current test texts it "
                "learned from cannot be told. Materialize fine_tuned_model on the current tokenized_dataset "
                f"{tokenized_dataset['version']} first."
            )
        ) from None
    _require_unseen(
        trained["train"]["text"], current["test"]["text"], fine_tuned_model, tokenized_dataset, asset
    )
    return trained


def dataset_path(fine_tuned_model: dict[str, Any]) -> str:
    """Where the model's training data lies (manifests from before `dataset_path` was recorded: by name)."""
    return (
        fine_tuned_model.get("dataset_path") or f"tokenized_dataset/{fine_tuned_model['tokenized_version']}"
    )


def _require_unseen(
    train_texts: list[str],
    test_texts: list[str],
    fine_tuned_model: dict[str, Any],
    tokenized_dataset: dict[str, Any],
    asset: str,
) -> None:
    """Refuse a test split that holds texts (by the split's own text key) the model was trained on."""
    seen = {text_key(text) for text in train_texts}
    hits = [text for text in test_texts if text_key(text) in seen]
    if hits:
        shown = ", ".join(repr(text[:60]) for text in hits[:EXAMPLES])
        raise dg.Failure(
            description=(
                f"{asset}: {len(hits)} of {len(test_texts)} test texts of tokenized_dataset "
                f"{tokenized_dataset['version']} are texts fine_tuned_model "
                f"{fine_tuned_model['model_version']} was trained on ({shown}): the splits changed since it "
                "was trained (another split salt or "
                "fractions), and its score there would measure memory. Materialize fine_tuned_model on the "
                "current tokenized_dataset first."
            )
        )
