"""Run under torchrun by test_ddp: trains a TrainJob through the entry point and writes, per rank, the train
row ids each epoch's batches held (rows-rank<N>.json in --rows), so a test can check the ranks' shards.

    python -m torch.distributed.run --standalone --nproc_per_node=2 -m tests.training.ddp_rows \\
        --job '<TrainJob JSON>' --rows DIR
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch
from datasets import load_from_disk

from ft_assets.training import entrypoint
from ft_assets.training.classifier_trainer import ClassifierTrainer
from ft_assets.training.job import TrainJob


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", required=True)
    parser.add_argument("--rows", type=Path, required=True)
    args = parser.parse_args()
    job = TrainJob.model_validate_json(args.job)
    train_ids = load_from_disk(job.dataset_path)["train"]["input_ids"]
    row_of = {tuple(ids): row for row, ids in enumerate(train_ids)}
    if len(row_of) != len(train_ids):
        raise ValueError("two train rows share their token ids: a batch row would not name its row")
    seen: dict[int, list[int]] = defaultdict(list)
    training_step = ClassifierTrainer.training_step

    def recording_step(
        self: ClassifierTrainer, model: Any, inputs: dict[str, Any], *rest: Any
    ) -> torch.Tensor:
        # The state's epoch is a whole number at an epoch's start and below the next one until its end.
        epoch = math.floor(self.state.epoch or 0.0)
        for ids, mask in zip(inputs["input_ids"].tolist(), inputs["attention_mask"].tolist(), strict=True):
            seen[epoch].append(row_of[tuple(ids[: sum(mask)])])
        return training_step(self, model, inputs, *rest)

    # Patched in this child process only: the batches reach no callback.
    ClassifierTrainer.training_step = recording_step  # type: ignore[method-assign]
    entrypoint.run(job)
    args.rows.mkdir(parents=True, exist_ok=True)
    (args.rows / f"rows-rank{entrypoint.rank()}.json").write_text(json.dumps(seen))


if __name__ == "__main__":
    main()
