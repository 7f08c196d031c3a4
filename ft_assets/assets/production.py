"""production_model: the champion/challenger gate that decides what the production bundle holds."""

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from datasets import load_from_disk
from ft_serving.production import POINTER_PATH, bundle_path
from ft_serving.spec import MODEL_CARD_FILE, REPORT_FILE, REPORT_METRICS, read_spec
from pydantic import Field

from ft_assets.evaluation.trained_on import trained_splits
from ft_assets.promotion.card import render_model_card
from ft_assets.promotion.gate import (
    bundle_labels,
    decide,
    decide_label_change,
    decide_rolled_back,
    label_set_change,
    score_bundle,
)
from ft_assets.promotion.registry import Registry, RegistryError
from ft_resources.artifact_store import ArtifactStore

# One promotion at a time across runs: the instance gives this pool a limit of 1 (deploy/dagster.yaml's
# default pool limit). On a local root the registry's file lock serialises writers as well.
PROMOTION_POOL = "promotion"


class PromotionConfig(dg.Config):
    metric: Literal["macro_f1", "accuracy"] = Field(
        default="macro_f1", description="Test-split score that decides promotion."
    )
    tolerance: float = Field(
        default=0.0,
        ge=0.0,
        description="The challenger may score this much below the champion and still win.",
    )
    require_beats_baseline: bool = Field(
        default=False,
        description=(
            "Promote only a model whose test score (metric) exceeds the TF-IDF + logistic-regression "
            "baseline that evaluation_report fits on the same train split."
        ),
    )
    allow_rolled_back: bool = Field(
        default=False,
        description=(
            "A model version an operator rolled production back from (make rollback) is not promoted "
            "again by the gate, however it scores: a retrain of unchanged data rebuilds the same bytes, "
            "so the same version, and would undo the rollback. Set this for one run to promote it anyway."
        ),
    )
    allow_label_change: bool = Field(
        default=False,
        description=(
            "When the champion predicts other labels than the challenger (a class renamed, added or "
            "removed), the champion cannot be scored on the new test labels, so the gate keeps it and "
            "logs why. Set this for one run to promote such a challenger anyway (it must still pass "
            "require_beats_baseline when that is set)."
        ),
    )


@dg.asset(
    group_name="serving",
    kinds={"onnx"},
    # 4: "same training data" compares what both models were trained on; 5: never scores a challenger
    # on its own train texts, and its data version is the production model's
    code_version="5",
    pool=PROMOTION_POOL,
    description=(
        "The production bundle: $FT_ARTIFACTS_DIR/registry/production.json names the immutable "
        "registry/<model_version>/ bundle (model.onnx, model.int8.onnx, tokenizer, labels.json, report.json, "
        "MODEL_CARD.md) that serves, and $FT_ARTIFACTS_DIR/production links to it on a local disk. The new "
        "model replaces the current one only when its test score on the current test split is at least the "
        "current model's score on that split, minus a tolerance; every decision is logged for rollback. "
        "A current model that predicts another label set cannot be scored on the new labels: the new "
        "model is then kept out (label_set_changed) unless config allow_label_change is set."
    ),
)
def production_model(
    context: dg.AssetExecutionContext,
    config: PromotionConfig,
    onnx_model: dict[str, Any],
    evaluation_report: dict[str, Any],
    tokenized_dataset: dict[str, Any],
    artifact_store: ArtifactStore,
) -> dg.Output[dict[str, Any]]:
    report = evaluation_report["report"]
    if report["model_version"] != onnx_model["model_version"]:
        # report.json travels in the bundle; it must describe the graph beside it, not an older model.
        raise dg.Failure(
            f"onnx_model is model {onnx_model['model_version']} but evaluation_report scored model "
            f"{report['model_version']}; materialize evaluation_report and onnx_model together first."
        )
    registry = Registry(artifact_store)
    splits = load_from_disk(str(artifact_store.local_path(tokenized_dataset["path"])))
    test = splits["test"]
    names = tokenized_dataset["label_names"]
    texts, truth = test["text"], [names[i] for i in test["labels"]]
    challenger_dir = artifact_store.local_path(onnx_model["path"])
    challenger_labels = list(bundle_labels(challenger_dir))
    if set(challenger_labels) != set(names):
        # Its score on these test labels would mean nothing, and so would the decision.
        raise dg.Failure(
            f"onnx_model {onnx_model['model_version']} predicts labels {challenger_labels}, but the test "
            f"split of tokenized_dataset {tokenized_dataset['version']} is labelled {names}; materialize "
            "fine_tuned_model, evaluation_report and onnx_model on the current tokenized_dataset first."
        )
    if "dataset_path" in onnx_model:  # onnx manifests name the training data since this check exists
        trained_splits(artifact_store, onnx_model, tokenized_dataset, splits, "production_model")
    challenger = score_bundle(challenger_dir, texts, truth, config.metric)
    # What the challenger was trained on, from its own bundle as the champion's is read below: the report's
    # data_version is the dataset it was scored on, which may be newer (evaluation scores a model on a newer
    # dataset of the same encoding).
    trained_on = read_spec(challenger_dir).data_version
    # Read the champion, decide and switch as one step: no other promotion may move production between.
    with registry.exclusive():
        try:
            current = registry.champion()
        except RegistryError as error:
            raise dg.Failure(str(error)) from None
        champion_version: str | None = None
        champion: float | None = None
        champion_labels: list[str] | None = None
        label_change: str | None = None
        same_data = False
        pointer = None
        if current is not None:
            pointer, champion_dir = current
            champion_version = pointer.model_version
            champion_spec = read_spec(champion_dir)
            champion_labels = list(champion_spec.labels)
            label_change = label_set_change(champion_labels, challenger_labels)
            # Trained on the data the challenger was: a retrain, which must be strictly better (gate.decide).
            same_data = champion_spec.data_version == trained_on
            if label_change is None:
                champion = score_bundle(champion_dir, texts, truth, config.metric)
        baseline = _baseline_pair(config, report)
        version = onnx_model["model_version"]
        withdrawn = None if config.allow_rolled_back else registry.rolled_back_from(version)
        if withdrawn is not None and champion_version != version:
            decision = decide_rolled_back(challenger, champion, config.metric, config.tolerance, withdrawn)
        elif label_change is None:
            decision = decide(
                challenger,
                champion,
                config.metric,
                config.tolerance,
                beats_baseline=baseline,
                # The same version is the same bytes: "already in production" below, not a retrain to judge.
                same_data=same_data and champion_version != version,
            )
        else:
            # Scored on the new labels the champion would get every renamed class wrong and lose to any
            # challenger: it is not scored at all, and the decision says why.
            context.log.warning(
                f"champion {champion_version} and challenger {onnx_model['model_version']} predict "
                f"different label sets: {label_change}; the champion's score is not comparable"
            )
            decision = decide_label_change(
                challenger,
                config.metric,
                config.tolerance,
                label_change,
                allow=config.allow_label_change,
                beats_baseline=baseline,
            )
        entry = {
            "model_version": onnx_model["model_version"],
            "data_version": trained_on,
            "test_data_version": report["data_version"],
            "metric": config.metric,
            "challenger_score": challenger,
            "champion_version": champion_version,
            "champion_score": champion,
            "reason": decision.reason,
            "metrics": {k: report[k] for k in REPORT_METRICS},
            "label_set_changed": label_change is not None,
            **(
                {"champion_labels": champion_labels, "challenger_labels": challenger_labels}
                if label_change is not None
                else {}
            ),
        }
        already_live = decision.promote and champion_version == onnx_model["model_version"]
        if already_live:
            # A retrain on unchanged data (the weekly schedule) rebuilds the same version: nothing moves.
            context.log.info(f"model {champion_version} is already in production; nothing to move")
            registry.repair()  # the `production` link, should a killed switch have left it behind
        elif decision.promote:
            with tempfile.TemporaryDirectory(prefix="ft-bundle-") as tmp:
                bundle = Path(tmp)
                for item in challenger_dir.iterdir():
                    if item.is_file():
                        shutil.copyfile(item, bundle / item.name)
                (bundle / REPORT_FILE).write_text(json.dumps(report, indent=2))
                (bundle / MODEL_CARD_FILE).write_text(render_model_card(report, onnx_model, decision.reason))
                try:
                    registry.publish(bundle, entry, expected=pointer)
                except RegistryError as error:
                    raise dg.Failure(str(error)) from None
            context.log.info(f"promoted {onnx_model['model_version']}: {decision.reason}")
        else:
            registry.record_rejection(entry)
            kept = (
                f"kept {champion_version}" if champion_version else "no production model yet, none promoted"
            )
            context.log.warning(f"{kept}: {decision.reason}")
    production_version = onnx_model["model_version"] if decision.promote else champion_version
    # Masked: the manifest is stored and shown; the store maps it back onto the real root to read.
    bundle_uri = artifact_store.display(bundle_path(production_version)) if production_version else None
    if already_live or decision.promote:
        outcome = "already in production" if already_live else "promoted"
    else:
        outcome = "kept champion" if champion_version else "not promoted (no production model yet)"
    return dg.Output(
        {
            **entry,
            "promoted": decision.promote,
            "production_version": production_version,
            "path": bundle_uri,
        },
        # The model production serves: a rejected challenger leaves it, so what is downstream
        # (batch_predictions) does not re-run for it; derived, it would change with every challenger judged.
        data_version=dg.DataVersion(production_version or "none"),
        metadata={
            "decision": dg.MetadataValue.text(outcome),
            "reason": dg.MetadataValue.text(decision.reason),
            "challenger_version": dg.MetadataValue.text(onnx_model["model_version"]),
            f"challenger_{config.metric}": dg.MetadataValue.float(round(challenger, 4)),
            "champion_version": dg.MetadataValue.text(champion_version or "none (first model)"),
            **(
                {f"champion_{config.metric}": dg.MetadataValue.float(round(champion, 4))}
                if champion is not None
                else {}
            ),
            "label_set_changed": dg.MetadataValue.bool(label_change is not None),
            **(
                {
                    "champion_labels": dg.MetadataValue.json(champion_labels),
                    "challenger_labels": dg.MetadataValue.json(challenger_labels),
                }
                if label_change is not None
                else {}
            ),
            "production_version": dg.MetadataValue.text(str(production_version)),
            "bundle_path": dg.MetadataValue.path(bundle_uri or artifact_store.display(POINTER_PATH)),
            "data_version": dg.MetadataValue.text(trained_on),
            "test_data_version": dg.MetadataValue.text(report["data_version"]),
        },
    )


def _baseline_pair(config: PromotionConfig, report: dict[str, Any]) -> tuple[float, float] | None:
    if not config.require_beats_baseline:
        return None
    lexical = report.get("lexical_baseline")
    if lexical is None:
        raise dg.Failure(
            "require_beats_baseline is set but report.json has no lexical_baseline; re-run evaluation"
        )
    return report[config.metric], lexical[config.metric]
