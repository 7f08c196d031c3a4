"""dataset_splits: stable train/validation/test assignment of the validated examples."""

from typing import Literal

import dagster as dg
import pandas as pd
from pydantic import Field

from ft_assets.assets.metadata import md_table
from ft_assets.splitting.hashing import SPLITS, assign_splits, missing_classes


class SplitConfig(dg.Config):
    train_fraction: float = Field(default=0.8, description="Share of texts assigned to train.")
    validation_fraction: float = Field(default=0.1, description="Share of texts assigned to validation.")
    salt: str = Field(default="", description="Changing it reshuffles every split (use with care).")
    on_missing_class: Literal["error", "warn"] = Field(
        default="error", description="What to do when a class has no example in some split."
    )


def split_table(frame: pd.DataFrame) -> pd.DataFrame:
    table = pd.crosstab(frame["label"], frame["split"]).reindex(columns=list(SPLITS), fill_value=0)
    return table.astype(int)


@dg.asset(
    group_name="data",
    kinds={"pandas", "parquet"},
    code_version="2",  # 2: the split hash ignores invisible characters (only texts with them move)
    description=(
        "validated_examples with a `split` column (train/validation/test, 80/10/10 by default) chosen by a "
        "hash of the normalised text: adding data never moves an existing example to another split, and "
        "identical texts never straddle two splits."
    ),
)
def dataset_splits(
    context: dg.AssetExecutionContext, config: SplitConfig, validated_examples: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    frame = validated_examples.copy()
    frame["split"] = assign_splits(
        frame["text"], config.train_fraction, config.validation_fraction, config.salt
    )
    missing = missing_classes(frame)
    if missing:
        problem = "; ".join(
            f"{split} has no example of {', '.join(labels)}" for split, labels in missing.items()
        )
        message = (
            f"class missing from a split: {problem}. Add data for those classes or change the fractions."
        )
        if config.on_missing_class == "error":
            raise dg.Failure(description=message)
        context.log.warning(message)
    table = split_table(frame)
    rows = [{"label": label, **{s: int(table.loc[label, s]) for s in SPLITS}} for label in table.index]
    sizes = {s: int((frame["split"] == s).sum()) for s in SPLITS}
    return dg.Output(
        frame,
        metadata={
            "row_count": dg.MetadataValue.int(len(frame)),
            **{f"{s}_rows": dg.MetadataValue.int(n) for s, n in sizes.items()},
            "class_counts_per_split": md_table(rows, ["label", *SPLITS]),
            "missing_classes": dg.MetadataValue.json(missing),
        },
    )
