"""The Dagster code location: every asset, check, schedule, sensor and resource."""

from __future__ import annotations

import dagster as dg

from ft_assets.assets.raw import raw_examples
from ft_assets.assets.splits import dataset_splits
from ft_assets.assets.tokenized import tokenized_dataset
from ft_assets.assets.validated import validate_raw_examples
from ft_assets.resources import build_resources

DATA_ASSETS = [raw_examples, validate_raw_examples, dataset_splits, tokenized_dataset]

defs = dg.Definitions(assets=DATA_ASSETS, resources=build_resources())
