"""Label ids and label names must mean the same classes wherever a model is scored.

evaluation_report and onnx_model score a fine-tuned model on tokenized_dataset's test split, whose label
ids follow that dataset's label list; production_model scores the champion bundle on the challenger's
test labels. Stubs stand in for the torch model and the ONNX bundles (each predicts the class named in the
text, in its own label list), so no test here trains anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pytest
from datasets import Dataset, DatasetDict
from ft_serving.classifier import Prediction
from ft_serving.spec import REPORT_FILE, REPORT_METRICS, BundleSpec, write_spec

import ft_assets.assets.evaluation as evaluation_module
import ft_assets.assets.production as production_module
import ft_assets.promotion.gate as gate_module
from ft_assets.assets.evaluation import evaluation_report
from ft_assets.assets.onnx import OnnxConfig, onnx_model
from ft_assets.assets.production import PromotionConfig, production_model
from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore

CLASSES = ["billing", "shipping", "technical"]
# The word a text of that class carries; other classes carry their own name. "bad" renamed "poor" is the
# same class, so the same word.
WORD = {"bad": "awful", "poor": "awful", "good": "great"}


def named(text: str, labels: Sequence[str]) -> int:
    """The id, in `labels`, of the class `text` names (matched case-insensitively); a class the model does
    not know gets its first class."""
    words = text.casefold().split()
    return next(
        (i for i, label in enumerate(labels) if WORD.get(label.casefold(), label.casefold()) in words), 0
    )


def write_splits(folder: Path, label_names: list[str], rows: list[tuple[str, str]]) -> Path:
    """A DatasetDict whose label ids follow `label_names`; every split holds `rows` (text, label)."""
    split = Dataset.from_dict(
        {"text": [t for t, _ in rows], "labels": [label_names.index(label) for _, label in rows]}
    )
    DatasetDict({"train": split, "validation": split, "test": split}).save_to_disk(str(folder))
    return folder


def tokenized(
    folder: Path, version: str, label_names: list[str], rows: list[tuple[str, str]], **encoding: Any
) -> dict:
    return {
        "path": str(write_splits(folder, label_names, rows)),
        "version": version,
        "data_version": f"data-{version}",
        "label_names": label_names,
        "max_length": 32,
        "base_model": "tiny",
        "base_model_fingerprint": "tiny-fingerprint",
        **encoding,
    }


def fine_tuned(label_names: list[str], tokenized_version: str) -> dict:
    return {
        "path": "/nonexistent/model",  # the stubbed predict_split never opens it
        "model_version": "model-1",
        "data_version": "data-v1",
        "tokenized_version": tokenized_version,
        "base_model": "tiny",
        "label_names": label_names,
        "max_length": 32,
        "base_model_fingerprint": "tiny-fingerprint",
        "log_history": [],
    }


@pytest.fixture
def model_predicts_the_named_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """predict_split: logits that pick the class each text names, in the *model's* label order."""

    def fake_predict_split(model_dir: Path, split: Dataset, batch_size: int = 64) -> np.ndarray:
        labels = fake_predict_split.labels  # type: ignore[attr-defined]
        logits = np.zeros((len(split), len(labels)), dtype=np.float32)
        for row, text in enumerate(split["text"]):
            logits[row, named(text, labels)] = 5.0
        return logits

    monkeypatch.setattr(evaluation_module, "predict_split", fake_predict_split)
    return fake_predict_split  # type: ignore[return-value]


def evaluate(predictor: Any, model: dict, data: dict, tmp_path: Path) -> dg.Output:
    predictor.labels = model["label_names"]
    with dg.build_asset_context() as context:
        return evaluation_report(
            context,
            fine_tuned_model=model,
            tokenized_dataset=data,
            artifact_store=ArtifactStore(root=str(tmp_path / "artifacts")),
        )


def export(model: dict, data: dict, tmp_path: Path) -> dg.Output:
    with dg.build_asset_context() as context:
        return onnx_model(
            context,
            config=OnnxConfig(),
            fine_tuned_model=model,
            tokenized_dataset=data,
            evaluation_report={"path": "unused", "report": {"max_length": 32}},
            artifact_store=ArtifactStore(root=str(tmp_path / "artifacts")),
        )


RENAMED_ROWS = [("awful service", "poor"), ("great service", "good")] * 4


def test_evaluation_refuses_a_dataset_whose_label_ids_name_other_classes(
    model_predicts_the_named_class: Any, tmp_path: Path
) -> None:
    # The model learnt ["bad", "good"]; label_map then renamed bad -> poor, so id 0 is now "good".
    model = fine_tuned(["bad", "good"], tokenized_version="v1")
    data = tokenized(tmp_path / "v2", "v2", ["good", "poor"], RENAMED_ROWS)
    # The model is right on every text, but id for id it would score 0.0 and write a wrong report.json.
    with pytest.raises(dg.Failure, match=r"trained on labels \['bad', 'good'\]") as failure:
        evaluate(model_predicts_the_named_class, model, data, tmp_path)
    assert "['good', 'poor']" in str(failure.value.description)
    assert "Materialize fine_tuned_model" in str(failure.value.description)
    assert not (tmp_path / "artifacts" / "evaluation_report").exists()


def test_evaluation_refuses_a_dataset_with_more_classes(
    model_predicts_the_named_class: Any, tmp_path: Path
) -> None:
    model = fine_tuned(["billing", "shipping"], tokenized_version="v1")
    rows = [(f"my {c} question", c) for c in CLASSES] * 3
    data = tokenized(tmp_path / "v2", "v2", CLASSES, rows)
    with pytest.raises(dg.Failure, match=r"only the data's: \['technical'\]"):
        evaluate(model_predicts_the_named_class, model, data, tmp_path)


def test_evaluation_scores_a_newer_dataset_with_the_same_labels(
    model_predicts_the_named_class: Any, tmp_path: Path
) -> None:
    # The model's own dataset: its train split is what the baseline learns from and the test must avoid.
    own = tokenized(tmp_path / "v1", "v1", CLASSES, [(f"my {c} question", c) for c in CLASSES] * 3)
    model = {**fine_tuned(CLASSES, tokenized_version="v1"), "dataset_path": own["path"]}
    rows = [(f"another {c} question", c) for c in CLASSES] * 3
    data = tokenized(tmp_path / "v2", "v2", CLASSES, rows)
    output = evaluate(model_predicts_the_named_class, model, data, tmp_path)
    assert output.value["report"]["accuracy"] == 1.0
    assert output.value["report"]["labels"] == {"0": "billing", "1": "shipping", "2": "technical"}


@pytest.mark.parametrize(
    ("encoding", "what"),
    [
        ({"base_model": "other", "base_model_fingerprint": "other-fingerprint"}, "base model"),
        ({"max_length": 64}, "max_length"),
    ],
    ids=["another-base-model", "another-max-length"],
)
def test_evaluation_refuses_test_ids_encoded_otherwise_than_the_model_was_trained(
    model_predicts_the_named_class: Any, tmp_path: Path, encoding: dict, what: str
) -> None:
    """Token ids from another tokenizer are another vocabulary; another max_length is another cut of the
    texts than the bundle will serve. Scores on either describe no model that will ever run."""
    model = fine_tuned(CLASSES, tokenized_version="v1")
    rows = [(f"another {c} question", c) for c in CLASSES] * 3
    data = tokenized(tmp_path / "v2", "v2", CLASSES, rows, **encoding)
    with pytest.raises(dg.Failure, match=what) as failure:
        evaluate(model_predicts_the_named_class, model, data, tmp_path)
    assert "Materialize fine_tuned_model" in str(failure.value.description)
    assert not (tmp_path / "artifacts" / "evaluation_report").exists()
    with pytest.raises(dg.Failure, match=what):
        export(model, data, tmp_path)


def test_onnx_model_refuses_a_dataset_whose_label_ids_name_other_classes(tmp_path: Path) -> None:
    model = fine_tuned(["bad", "good"], tokenized_version="v1")
    data = tokenized(tmp_path / "v2", "v2", ["good", "poor"], RENAMED_ROWS)
    with pytest.raises(dg.Failure, match=r"onnx_model: .*trained on labels \['bad', 'good'\]"):
        export(model, data, tmp_path)


# production_model: fake bundles whose stub classifier predicts the class each text names.


class NamedClassClassifier:
    """Stands in for OnnxClassifier: predicts, in its bundle's own labels, the class the text names."""

    def __init__(self, bundle_dir: Path | str, *, int8: bool = False, threads: int | None = None) -> None:
        spec = json.loads((Path(bundle_dir) / "bundle.json").read_text())
        self.labels = tuple(spec["labels"])
        self.model_version = spec["model_version"]

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        out = []
        for text in texts:
            label = self.labels[named(text, self.labels)]
            probabilities = {name: float(name == label) for name in self.labels}
            out.append(Prediction(text, label, 1.0, probabilities, False))
        return out


def fake_bundle(folder: Path, version: str, labels: Sequence[str], data_version: str = "data") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = BundleSpec(
        model_version=version,
        data_version=data_version,
        base_model="tiny",
        labels=tuple(labels),
        max_length=32,
        model_inputs=("input_ids", "attention_mask"),
    )
    write_spec(folder, spec)
    (folder / "model.onnx").write_bytes(version.encode())
    (folder / "labels.json").write_text(json.dumps(dict(enumerate(labels))))
    (folder / REPORT_FILE).write_text(json.dumps({"model_version": version}))
    return folder


def crown(store: ArtifactStore, bundle: Path, version: str) -> None:
    Registry(store).publish(bundle, {"model_version": version})


def gate_inputs(store: ArtifactStore, tmp_path: Path, labels: list[str], lexical: float = 0.0) -> dict:
    """onnx_model, evaluation_report and tokenized_dataset as a challenger named `challenger` has them."""
    # Trained on newer data than any champion of these tests (theirs is "data"): a tie promotes it.
    bundle = fake_bundle(tmp_path / "onnx" / "challenger", "challenger", labels, data_version="data-v2")
    rows = [(f"my {label.casefold()} question", label) for label in labels] * 3
    data = tokenized(tmp_path / "tokenized", "v2", labels, rows)
    metrics = dict.fromkeys(REPORT_METRICS, 1.0) | {"n_test": len(rows)}
    report = {
        "model_version": "challenger",
        "data_version": "data-v2",
        **metrics,
        "lexical_baseline": {"accuracy": lexical, "macro_f1": lexical},
    }
    onnx = {
        "path": str(bundle),
        "model_version": "challenger",
        "bundle_spec": json.loads((bundle / "bundle.json").read_text()),
    }
    return {
        "onnx_model": onnx,
        "evaluation_report": {"path": "unused", "report": report},
        "tokenized_dataset": data,
    }


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ArtifactStore:
    monkeypatch.setattr(gate_module, "OnnxClassifier", NamedClassClassifier)
    monkeypatch.setattr(production_module, "render_model_card", lambda report, onnx, reason: f"# {reason}\n")
    return ArtifactStore(root=str(tmp_path / "artifacts"))


def run_gate(store: ArtifactStore, inputs: dict, **config: Any) -> tuple[dict, dict]:
    with dg.build_asset_context() as context:
        output = production_model(context, config=PromotionConfig(**config), artifact_store=store, **inputs)
    return output.value, {name: value.value for name, value in output.metadata.items()}


def production_version(store: ArtifactStore) -> str | None:
    pointer = Registry(store).pointer()
    return pointer.model_version if pointer else None


FOLDED = ["billing", "shipping", "technical"]
CAPITALISED = ["Billing", "Shipping", "Technical"]


def test_a_champion_with_other_labels_is_not_beaten_by_a_meaningless_score(
    store: ArtifactStore, tmp_path: Path
) -> None:
    # fold_label_case turned Billing/Shipping/Technical into billing/shipping/technical. The champion is
    # as right as the challenger, but against the folded labels it would score 0 and lose to anything.
    crown(store, fake_bundle(tmp_path / "champ", "champion", CAPITALISED), "champion")
    manifest, metadata = run_gate(store, gate_inputs(store, tmp_path, FOLDED))
    assert metadata["decision"] == "kept champion"
    assert metadata["label_set_changed"] is True
    assert metadata["champion_labels"] == CAPITALISED
    assert metadata["challenger_labels"] == FOLDED
    assert "champion_macro_f1" not in metadata  # no score of the champion is recorded as if comparable
    assert "label set changed" in metadata["reason"]
    assert "champion not comparable" in metadata["reason"]
    assert "allow_label_change: true" in metadata["reason"]
    assert (manifest["promoted"], manifest["production_version"]) == (False, "champion")
    assert production_version(store) == "champion"
    entry = Registry(store).entries()[-1]
    assert (entry["action"], entry["label_set_changed"], entry["champion_score"]) == ("reject", True, None)
    assert (entry["champion_labels"], entry["challenger_labels"]) == (CAPITALISED, FOLDED)


def test_allow_label_change_promotes_after_the_absolute_checks(store: ArtifactStore, tmp_path: Path) -> None:
    crown(store, fake_bundle(tmp_path / "champ", "champion", CAPITALISED), "champion")
    # The challenger does not beat the TF-IDF baseline: the flag does not lift that check.
    inputs = gate_inputs(store, tmp_path, FOLDED, lexical=1.0)
    _, metadata = run_gate(store, inputs, allow_label_change=True, require_beats_baseline=True)
    assert metadata["decision"] == "kept champion"
    assert "label set changed" in metadata["reason"] and "TF-IDF baseline" in metadata["reason"]
    assert production_version(store) == "champion"

    manifest, metadata = run_gate(store, inputs, allow_label_change=True)
    assert metadata["decision"] == "promoted"
    assert "champion not comparable" in metadata["reason"]
    assert "allow_label_change" in metadata["reason"]
    assert manifest["production_version"] == "challenger" == production_version(store)
    assert Registry(store).entries()[-1]["label_set_changed"] is True


def test_the_same_labels_in_another_order_are_still_compared(store: ArtifactStore, tmp_path: Path) -> None:
    # Scores compare label strings, so a champion listing the same classes in another order is comparable.
    crown(store, fake_bundle(tmp_path / "champ", "champion", FOLDED[::-1]), "champion")
    _, metadata = run_gate(store, gate_inputs(store, tmp_path, FOLDED))
    assert metadata["label_set_changed"] is False
    assert metadata["champion_macro_f1"] == 1.0
    assert (metadata["decision"], production_version(store)) == ("promoted", "challenger")


def test_a_challenger_that_predicts_other_labels_than_the_test_split_is_refused(
    store: ArtifactStore, tmp_path: Path
) -> None:
    inputs = gate_inputs(store, tmp_path, FOLDED)
    fake_bundle(Path(inputs["onnx_model"]["path"]), "challenger", CAPITALISED)  # built on older labels
    with pytest.raises(dg.Failure, match="predicts labels"):
        run_gate(store, inputs)
    assert production_version(store) is None
