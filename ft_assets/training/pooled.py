"""A classifier on the mean of the encoder's token vectors, for encoders trained to be read that way.

Sentence encoders such as all-MiniLM-L6-v2 are trained with mean pooling: their [CLS] vector and the BERT
pooler on top of it never took part in that training, so the stock ``*ForSequenceClassification`` head
starts from the weakest summary the encoder has. This model reads the masked mean instead.

It is a plain transformers model: ``save_pretrained`` writes safetensors and a config.json with
``model_type`` ``ft-mean-pooled``, and importing this module registers that type with the Auto classes,
so ``AutoModelForSequenceClassification.from_pretrained`` loads it without remote code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import SequenceClassifierOutput

MODEL_TYPE = "ft-mean-pooled"


class MeanPooledConfig(PretrainedConfig):
    model_type = MODEL_TYPE
    has_no_defaults_at_init = True

    def __init__(
        self, encoder: dict[str, Any] | None = None, classifier_dropout: float = 0.1, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder or {}
        self.classifier_dropout = classifier_dropout
        # Read as on the encoder's own config: by export (the position limit) and by this model's head size.
        for key in ("max_position_embeddings", "hidden_size", "num_hidden_layers"):
            if key in self.encoder:
                setattr(self, key, self.encoder[key])

    def encoder_config(self) -> PretrainedConfig:
        settings = dict(self.encoder)
        return AutoConfig.for_model(settings.pop("model_type"), **settings)


class MeanPooledClassifier(PreTrainedModel):
    config_class = MeanPooledConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: MeanPooledConfig, encoder: PreTrainedModel | None = None) -> None:
        super().__init__(config)
        self.encoder = encoder if encoder is not None else AutoModel.from_config(config.encoder_config())
        # The pooler reads [CLS] only; left in, it would be an untrained, unused set of weights.
        if getattr(self.encoder, "pooler", None) is not None:
            self.encoder.pooler = None
        self.dropout = torch.nn.Dropout(config.classifier_dropout)
        self.classifier = torch.nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        # Only the head is new; the encoder's own initialisation rules apply to the encoder.
        if module is self.classifier:
            module.weight.data.normal_(mean=0.0, std=0.02)
            module.bias.data.zero_()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutput:
        encoder_inputs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            encoder_inputs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**encoder_inputs).last_hidden_state
        if attention_mask is None:
            attention_mask = torch.ones(hidden.shape[:2], dtype=hidden.dtype, device=hidden.device)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)

    @classmethod
    def from_encoder(
        cls, base_model: str | Path, *, num_labels: int, id2label: dict[int, str], label2id: dict[str, int]
    ) -> MeanPooledClassifier:
        encoder = AutoModel.from_pretrained(str(base_model), use_safetensors=True, trust_remote_code=False)
        config = MeanPooledConfig(
            encoder=encoder.config.to_dict(),
            classifier_dropout=getattr(encoder.config, "hidden_dropout_prob", 0.1),
            num_labels=num_labels,
            id2label=id2label,
            label2id=label2id,
        )
        return cls(config, encoder=encoder)


def trained_with_mean_pooling(base_model: str | Path) -> bool:
    """True when the base is a sentence-transformers model whose embedding is the mean of its tokens."""
    folder = Path(base_model)
    try:
        modules = json.loads((folder / "modules.json").read_text())
    except (OSError, ValueError):
        return False
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            try:
                pooling = json.loads((folder / module["path"] / "config.json").read_text())
            except (OSError, ValueError, KeyError):
                return False
            modes = {key for key, value in pooling.items() if key.startswith("pooling_mode_") and value}
            return modes == {"pooling_mode_mean_tokens"}
    return False


AutoConfig.register(MODEL_TYPE, MeanPooledConfig)
AutoModelForSequenceClassification.register(MeanPooledConfig, MeanPooledClassifier)
