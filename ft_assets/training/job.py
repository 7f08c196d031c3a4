"""TrainJob: everything the training entry point needs, as JSON on its command line."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class TrainJob(BaseModel):
    """One training run, independent of where it runs (this process, a subprocess, torchrun, a pod).

    Paths must be visible where the job runs: the same machine, or a volume mounted at the same path.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset_path: str  # a saved tokenized DatasetDict (train and validation splits)
    label_names: list[str]
    base_model: str  # a local model folder or a hub id, as from_pretrained takes it
    config: dict[str, Any]  # TrainConfig fields
    accelerator: dict[str, Any]  # AcceleratorResource fields; resolved where the job runs
    output_dir: str  # absent or empty: the model folder is written here by rank 0
    checkpoint_dir: str  # specific to this model version, so a retry resumes

    def argv(self) -> list[str]:
        return ["--job", self.model_dump_json()]
