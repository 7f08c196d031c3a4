"""evaluation_report: test-split metrics, plots and a readable report for one fine-tuned model."""

import base64
import json
from typing import Any

import dagster as dg
import pandas as pd
from datasets import load_from_disk

from ft_assets.evaluation import compute_report, confusion_matrix_png, render_report_md, training_curves_png
from ft_assets.evaluation.inference import predict_split, softmax
from ft_resources.artifact_store import ArtifactStore


def png_md(title: str, png: bytes) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


@dg.asset(
    group_name="training",
    kinds={"pytorch", "scikitlearn"},
    code_version="1",
    description=(
        "fine_tuned_model scored on tokenized_dataset's test split: accuracy, macro and per-class "
        "precision/recall/F1, the confusion matrix, the 20 most confident errors and the training curves, "
        "beside the majority-class baseline. Writes report.json, report.md and the plots as PNG."
    ),
)
def evaluation_report(
    context: dg.AssetExecutionContext,
    fine_tuned_model: dict[str, Any],
    tokenized_dataset: dict[str, Any],
    artifact_store: ArtifactStore,
) -> dg.Output[dict[str, Any]]:
    if fine_tuned_model["tokenized_version"] != tokenized_dataset["version"]:
        context.log.warning(
            "the test split comes from a newer tokenized_dataset than the model was trained on; "
            "scoring the model on the current test split"
        )
    test = load_from_disk(str(artifact_store.local_path(tokenized_dataset["path"])))["test"]
    labels = fine_tuned_model["label_names"]
    logits = predict_split(artifact_store.local_path(fine_tuned_model["path"]), test)
    probabilities = softmax(logits)
    report = compute_report(
        test["labels"], probabilities.argmax(axis=1).tolist(), probabilities, labels, test["text"]
    )
    lineage = {
        "model_version": fine_tuned_model["model_version"],
        "data_version": tokenized_dataset["data_version"],
        "base_model": fine_tuned_model["base_model"],
        "labels": {str(i): label for i, label in enumerate(labels)},
    }
    report_json = report.to_json_dict(lineage)
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
    rel = f"evaluation_report/{lineage['model_version']}-{tokenized_dataset['version']}"
    with artifact_store.write_dir(rel) as staging:
        (staging / "report.md").write_text(markdown)
        (staging / "confusion_matrix.png").write_bytes(confusion)
        (staging / "training_curves.png").write_bytes(curves)
        predictions.to_parquet(staging / "predictions.parquet", index=False)
        (staging / "report.json").write_text(json.dumps(report_json, indent=2))
    baseline = report.majority_baseline
    context.log.info(
        f"test accuracy {report.accuracy:.4f}, macro F1 {report.macro_f1:.4f} on {report.n_test} texts "
        f"(majority baseline {baseline.accuracy:.4f}, always '{baseline.label}')"
    )
    return dg.Output(
        {"path": artifact_store.uri(rel), "report": report_json},
        metadata={
            "accuracy": dg.MetadataValue.float(round(report.accuracy, 4)),
            "macro_f1": dg.MetadataValue.float(round(report.macro_f1, 4)),
            "macro_precision": dg.MetadataValue.float(round(report.macro_precision, 4)),
            "macro_recall": dg.MetadataValue.float(round(report.macro_recall, 4)),
            "majority_baseline_accuracy": dg.MetadataValue.float(round(baseline.accuracy, 4)),
            "n_test": dg.MetadataValue.int(report.n_test),
            "report": dg.MetadataValue.md(markdown),
            "confusion_matrix": png_md("confusion matrix", confusion),
            "training_curves": png_md("training curves", curves),
            "report_path": dg.MetadataValue.path(artifact_store.uri(rel, "report.json")),
            "model_version": dg.MetadataValue.text(lineage["model_version"]),
            "data_version": dg.MetadataValue.text(lineage["data_version"]),
        },
    )
