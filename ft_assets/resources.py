"""The resource set the Definitions use; tests build the same set with their own roots."""

from __future__ import annotations

from typing import Any

from ft_resources import settings
from ft_resources.accelerator import AcceleratorResource
from ft_resources.artifact_store import ArtifactStore
from ft_resources.base_model import BaseModelSource
from ft_resources.classifier_resource import ClassifierResource
from ft_resources.io_manager import ArtifactIOManager
from ft_resources.training_launcher import TrainingLauncher


def build_resources(
    artifacts_root: str | None = None,
    base_model: str | None = None,
    accelerator: AcceleratorResource | None = None,
    training_launcher: TrainingLauncher | None = None,
) -> dict[str, Any]:
    store = ArtifactStore(root=artifacts_root or settings.artifacts_dir())
    return {
        "io_manager": ArtifactIOManager(store=store),
        "artifact_store": store,
        "base_model": BaseModelSource(name_or_path=base_model or settings.base_model()),
        "accelerator": accelerator or AcceleratorResource(),
        "classifier": ClassifierResource(),
        "training_launcher": training_launcher or TrainingLauncher(),
    }
