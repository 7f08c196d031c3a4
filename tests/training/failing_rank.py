"""Run by torchrun in test_ddp_failure: the entry point's run() with rank 1 raising at its first step."""

import sys
from pathlib import Path

from transformers import TrainerCallback

from ft_assets.training import entrypoint
from ft_assets.training.job import TrainJob


class FailOnRankOne(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if entrypoint.rank() == 1:
            raise RuntimeError("rank 1 failed on purpose")


if __name__ == "__main__":
    entrypoint.run(TrainJob.model_validate_json(Path(sys.argv[1]).read_text()), callbacks=[FailOnRankOne()])
