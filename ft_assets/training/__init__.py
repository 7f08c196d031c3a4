"""Fine-tuning core: hyperparameters, the training loop and its outcome (the asset lives elsewhere)."""

from ft_assets.training.config import TrainConfig
from ft_assets.training.outcome import TrainOutcome
from ft_assets.training.trainer import train_classifier

__all__ = ["TrainConfig", "TrainOutcome", "train_classifier"]
