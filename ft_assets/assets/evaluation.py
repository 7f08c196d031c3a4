"""evaluation_report: test-split metrics, plots and a readable report for one fine-tuned model."""

import base64
import dataclasses
import json
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import dagster as dg
import pandas as pd
from datasets import load_from_disk
from ft_serving.classifier import softmax
from ft_serving.spec import REPORT_FILE

from ft_assets.evaluation import (
    compute_report,
    confusion_matrix_png,
    fit_lexical_baseline,
    render_report_md,
    score_lexical_baseline,
    training_curves_png,
)
from ft_assets.evaluation.inference import predict_split
from ft_assets.evaluation.trained_on import trained_splits
from ft_assets.tokenizing.encode import label_difference
from ft_assets.tokenizing.versioning import content_name
from ft_resources.artifact_store import ArtifactStore


def scorable_labels(
    fine_tuned_model: dict[str, Any], tokenized_dataset: dict[str, Any], asset: str
) -> list[str]:
    """The model's labels, once the tokenized dataset's test ids can be fed to the model and compared
    with its predictions: encoded as it was trained (same_encoding) and labelled alike (same_labels)."""
    same_encoding(fine_tuned_model, tokenized_dataset, asset)
    return same_labels(fine_tuned_model, tokenized_dataset, asset)


def same_encoding(fine_tuned_model: dict[str, Any], tokenized_dataset: dict[str, Any], asset: str) -> None:
    """Refuse test token ids from another tokenizer (another vocabulary) or another max_length (another
    cut of the texts than the bundle will serve): a score on them describes no model that will run.

    A newer tokenized_dataset of the same base model and max_length (new rows) is fine to score on.
    Manifests written before the fingerprint was recorded are compared by the base model's name.
    """
    key = "base_model_fingerprint"
    if key in fine_tuned_model and key in tokenized_dataset:
        same_base = fine_tuned_model[key] == tokenized_dataset[key]
    else:
        same_base = fine_tuned_model["base_model"] == tokenized_dataset["base_model"]
    problems = []
    if not same_base:
        problems.append(
            f"its test split was tokenized for base model {tokenized_dataset['base_model']}, the model was "
            f"trained from base model {fine_tuned_model['base_model']}"
        )
    if fine_tuned_model["max_length"] != tokenized_dataset["max_length"]:
        problems.append(
            f"its test texts are cut at max_length {tokenized_dataset['max_length']}, the model was trained "
            f"and will be served at {fine_tuned_model['max_length']}"
        )
    if problems:
        raise dg.Failure(
            description=(
                f"{asset}: fine_tuned_model {fine_tuned_model['model_version']} cannot be scored on "
                f"tokenized_dataset {tokenized_dataset['version']}: {'; '.join(problems)}. Materialize "
                "fine_tuned_model on the current tokenized_dataset first."
            )
        )


def same_labels(fine_tuned_model: dict[str, Any], tokenized_dataset: dict[str, Any], asset: str) -> list[str]:
    """The model's labels, once they are the tokenized dataset's, in the same order.

    Label id i of the data must name the model's class i: every prediction is compared with the data's
    ids. A model trained on an earlier tokenized_dataset whose labels were renamed, reordered, added or
    removed is refused rather than scored. Remapping by name is not attempted: label ids follow one
    deterministic order (label_order), so equal label sets always give equal lists, and any difference
    means the classes themselves changed.
    """
    model_labels = list(fine_tuned_model["label_names"])
    data_labels = list(tokenized_dataset["label_names"])
    if model_labels == data_labels:
        return model_labels
    if set(model_labels) == set(data_labels):
        change = "the same classes in another order"
    else:
        change = label_difference("model", model_labels, "data", data_labels)
    raise dg.Failure(
        description=(
            f"{asset}: fine_tuned_model {fine_tuned_model['model_version']} was trained on labels "
            f"{model_labels} (tokenized_dataset {fine_tuned_model.get('tokenized_version')}), but the "
            f"current tokenized_dataset {tokenized_dataset['version']} has labels {data_labels} ({change}); "
            "its label ids name other classes, so no score would be right. Materialize fine_tuned_model on "
            "the current tokenized_dataset first."
        ),
        metadata={
            "model_labels": dg.MetadataValue.json(model_labels),
            "data_labels": dg.MetadataValue.json(data_labels),
        },
    )


def png_md(title: str, png: bytes) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


@dg.asset(
    group_name="training",
    kinds={"pytorch", "scikitlearn"},
    code_version="3",  # 3: never on train texts; baseline of the model's own train split; both data versions
    description=(
        "fine_tuned_model scored on tokenized_dataset's test split: accuracy, macro and per-class "
        "precision/recall/F1, the confusion matrix, the 20 most confident errors and the training curves, "
        "beside a TF-IDF + logistic-regression baseline fitted on the model's own train split and the "
        "majority class. Writes report.json, report.md and the plots as PNG."
    ),
)
def evaluation_report(
    context: dg.AssetExecutionContext,
    fine_tuned_model: dict[str, Any],
    tokenized_dataset: dict[str, Any],
    artifact_store: ArtifactStore,
) -> dg.Output[dict[str, Any]]:
    labels = scorable_labels(fine_tuned_model, tokenized_dataset, "evaluation_report")
    splits = load_from_disk(str(artifact_store.local_path(tokenized_dataset["path"])))
    test = splits["test"]
    trained = trained_splits(artifact_store, fine_tuned_model, tokenized_dataset, splits, "evaluation_report")
    if fine_tuned_model["tokenized_version"] != tokenized_dataset["version"]:
        context.log.warning(
            "the test split comes from a newer tokenized_dataset than the model was trained on; scoring the "
            "model on the current test split (same labels, same ids, none of its train texts), beside a "
            "TF-IDF baseline fitted on the model's own train split"
        )
    logits = predict_split(artifact_store.local_path(fine_tuned_model["path"]), test)
    probabilities = softmax(logits)
    report = compute_report(
        test["labels"], probabilities.argmax(axis=1).tolist(), probabilities, labels, test["text"]
    )
    # Fitted on the train split the model learned from: "the same train split", whatever is tested on.
    lexical_fit = fit_lexical_baseline(
        trained["train"]["text"],
        trained["train"]["labels"],
        trained["validation"]["text"],
        trained["validation"]["labels"],
        test["text"],
        len(labels),
    )
    report = dataclasses.replace(
        report, lexical_baseline=score_lexical_baseline(lexical_fit, test["labels"], labels, test["text"])
    )
    lineage = {
        "model_version": fine_tuned_model["model_version"],
        # What the model was trained on, as its bundle.json says; the test split may come from newer data.
        "data_version": fine_tuned_model["data_version"],
        "test_data_version": tokenized_dataset["data_version"],
        "base_model": fine_tuned_model["base_model"],
        "labels": {str(i): label for i, label in enumerate(labels)},
        # The length the test texts were cut to; the bundle must serve at this one (bundle.json).
        "max_length": tokenized_dataset["max_length"],
    }
    # How the model was trained (method, parameters trained, adapter size) travels to the model card.
    report_json = report.to_json_dict({**lineage, "fine_tuning": fine_tuned_model.get("fine_tuning", {})})
    confusion = confusion_matrix_png(report, labels)
    curves = training_curves_png(fine_tuned_model["log_history"])
    markdown = render_report_md(
        report,
        model_version=lineage["model_version"],
        data_version=lineage["data_version"],
        base_model=lineage["base_model"],
        label_names=labels,
    )
    predictions = pd.DataFrame({"text": test["text"], "label": [labels[i] for i in test["labels"]]})
    predictions["predicted"] = [labels[i] for i in probabilities.argmax(axis=1)]
    predictions["score"] = probabilities.max(axis=1)
    # Named by its bytes (see onnx_model): an earlier manifest's report folder is never rewritten.
    naming = partial(content_name, f"{lineage['model_version']}-{tokenized_dataset['version']}")
    with artifact_store.write_named_dir("evaluation_report", naming) as written:
        staging = written.path
        (staging / "report.md").write_text(markdown)
        (staging / "confusion_matrix.png").write_bytes(confusion)
        (staging / "training_curves.png").write_bytes(curves)
        predictions.to_parquet(staging / "predictions.parquet", index=False)
        (staging / REPORT_FILE).write_text(json.dumps(report_json, indent=2))
    rel = written.rel
    baseline = report.majority_baseline
    lexical = report.lexical_baseline
    margin = report.margin_over_lexical()
    context.log.info(
        f"test accuracy {report.accuracy:.4f}, macro F1 {report.macro_f1:.4f} on {report.n_test} texts; "
        f"TF-IDF baseline accuracy {lexical.accuracy:.4f}, macro F1 {lexical.macro_f1:.4f} "
        f"(fitted in {lexical.fit_seconds:.1f} s); majority baseline {baseline.accuracy:.4f}, "
        f"always '{baseline.label}'"
    )
    return dg.Output(
        # Masked: the manifest is stored and shown; the store maps it back onto the real root to read.
        {"path": artifact_store.display(rel), "report": report_json},
        data_version=dg.DataVersion(PurePosixPath(rel).name),  # its content name: the report's bytes
        metadata={
            "accuracy": dg.MetadataValue.float(round(report.accuracy, 4)),
            "macro_f1": dg.MetadataValue.float(round(report.macro_f1, 4)),
            "macro_precision": dg.MetadataValue.float(round(report.macro_precision, 4)),
            "macro_recall": dg.MetadataValue.float(round(report.macro_recall, 4)),
            "majority_baseline_accuracy": dg.MetadataValue.float(round(baseline.accuracy, 4)),
            "tfidf_baseline_accuracy": dg.MetadataValue.float(round(lexical.accuracy, 4)),
            "tfidf_baseline_macro_f1": dg.MetadataValue.float(round(lexical.macro_f1, 4)),
            "margin_over_tfidf_macro_f1": dg.MetadataValue.float(round(margin["macro_f1"], 4)),
            "margin_over_tfidf_accuracy": dg.MetadataValue.float(round(margin["accuracy"], 4)),
            "baselines": dg.MetadataValue.table(
                records=[
                    dg.TableRecord({"model": name, "accuracy": round(acc, 4), "macro_f1": round(f1, 4)})
                    for name, acc, f1 in (
                        ("fine-tuned model", report.accuracy, report.macro_f1),
                        (lexical.name, lexical.accuracy, lexical.macro_f1),
                        (f"majority class ({baseline.label})", baseline.accuracy, baseline.macro_f1),
                    )
                ],
                schema=dg.TableSchema(
                    columns=[
                        dg.TableColumn("model", "string"),
                        dg.TableColumn("accuracy", "float"),
                        dg.TableColumn("macro_f1", "float"),
                    ]
                ),
            ),
            "n_test": dg.MetadataValue.int(report.n_test),
            "report": dg.MetadataValue.md(markdown),
            "confusion_matrix": png_md("confusion matrix", confusion),
            "training_curves": png_md("training curves", curves),
            "report_path": dg.MetadataValue.path(artifact_store.display(f"{rel}/{REPORT_FILE}")),
            "model_version": dg.MetadataValue.text(lineage["model_version"]),
            "data_version": dg.MetadataValue.text(lineage["data_version"]),
        },
    )
