"""The Dagster UI in a real browser, after the whole graph was materialized with a tiny model."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from ft_assets.assets.validated import validate_raw_examples
from ft_assets.definitions import ALL_ASSETS
from ft_assets.training.config import TrainConfig
from tests.ui.conftest import CHROMIUM, DagsterUI
from tests.ui.screens import bounding_clip, save_screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (.ci/run installs it)"
    ),
]

GROUPS = ("data", "training", "serving")
# The asset keys users rely on (the README's asset list); the graph may hold more (every asset must show).
CONTRACT_ASSETS = [
    "raw_examples",
    "validated_examples",
    "quarantined_examples",
    "dataset_splits",
    "tokenized_dataset",
    "fine_tuned_model",
    "evaluation_report",
    "onnx_model",
    "production_model",
]
ASSETS = sorted({key.to_user_string() for assets_def in ALL_ASSETS for key in assets_def.keys})
CHECKS = {spec.name: spec for spec in validate_raw_examples.check_specs}  # all on validated_examples
# Wide enough that the graph, zoomed to fit, draws full nodes (name, status, kinds), not minimal ones.
GRAPH_VIEWPORT: ViewportSize = {"width": 3000, "height": 1100}


def open_asset_graph(page: Page, ui: DagsterUI) -> None:
    page.goto(f"{ui.url}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    for group in GROUPS:
        expect(page.get_by_text(group, exact=True).first).to_be_visible()


def test_asset_graph_shows_every_asset_materialized(dagster_ui: DagsterUI, page: Page) -> None:
    page.set_viewport_size(GRAPH_VIEWPORT)
    open_asset_graph(page, dagster_ui)
    page.get_by_role("button", name="Hide navigation").click()
    page.get_by_role("button", name="panel_show_right").click()  # hides the asset tree beside the graph
    page.keyboard.press("Alt+e")  # groups start collapsed; ⌥E is the UI's "Expand all groups"
    expect(page.locator("[class*=assetName]")).to_have_count(len(ASSETS))
    zoomed_out = "the fitted graph draws minimal nodes with truncated names: widen GRAPH_VIEWPORT"
    expect(page.locator("[class*=minimalName]"), zoomed_out).to_have_count(0)
    assert set(CONTRACT_ASSETS) <= set(ASSETS)
    names = [page.get_by_text(name, exact=True) for name in ASSETS]
    for name in names:
        expect(name).to_be_visible()
    expect(page.get_by_text("Materialized", exact=True)).to_have_count(len(ASSETS))
    expect(page.get_by_text(f"{len(CHECKS)} / {len(CHECKS)} Passed")).to_be_visible()  # on validated_examples
    # Around the node titles, with room for the node bodies, kind tags and group boxes.
    clip = bounding_clip(names, left=80, top=100, right=180, bottom=220)
    save_screenshot(page, "asset_graph", clip=clip)


def test_evaluation_report_shows_its_confusion_matrix(dagster_ui: DagsterUI, page: Page) -> None:
    page.goto(f"{dagster_ui.url}/assets/evaluation_report?view=overview")
    expect(page.get_by_text("Latest materialization")).to_be_visible()
    rows = page.get_by_role("row")
    for key in ("accuracy", "macro_f1", "n_test", "report", "training_curves"):
        # The key's own cell: the baseline comparison table repeats "accuracy" as a column header.
        expect(rows.filter(has=page.get_by_role("cell", name=key, exact=True))).to_have_count(1)
    rows.filter(has=page.get_by_text("confusion_matrix", exact=True)).get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog").filter(has_text="confusion_matrix")
    image = dialog.get_by_role("img", name="confusion matrix")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 100
    save_screenshot(page, "evaluation_report")


def test_validated_examples_checks_all_passed(dagster_ui: DagsterUI, page: Page) -> None:
    page.goto(f"{dagster_ui.url}/assets/validated_examples?view=checks")
    expect(page.get_by_text(f"Checks ({len(CHECKS)})")).to_be_visible()
    for name in CHECKS:
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(CHECKS))
    blocking = [spec for spec in CHECKS.values() if spec.blocking]
    assert blocking, "min_examples_per_class and quarantine_rate must stop training"
    for spec in blocking:
        page.get_by_text(spec.name, exact=True).first.click()
        assert spec.description
        expect(page.get_by_text(spec.description, exact=True)).to_be_visible()  # its detail pane is open
        expect(page.get_by_text("This is a blocking asset check.")).to_be_visible()
        expect(page.get_by_text("Passed", exact=True)).to_be_visible()
    save_screenshot(page, "validated_examples_checks")


def test_launchpad_shows_training_hyperparameters(dagster_ui: DagsterUI, page: Page) -> None:
    open_asset_graph(page, dagster_ui)
    page.get_by_role("button", name="Materialize all").locator("xpath=following::button[1]").click()
    page.get_by_role("menuitem", name="Open launchpad").click()
    # The closing menu is a dialog too, and says "launchpad": pick the one holding the config editor.
    dialog = page.get_by_role("dialog").filter(has=page.locator(".CodeMirror"))
    editor = dialog.locator(".CodeMirror")
    expect(editor).to_contain_text("fine_tuned_model:")
    defaults = TrainConfig()
    for field in ("epochs", "batch_size", "seed", "method", "pooling"):
        expect(editor).to_contain_text(f"{field}: {getattr(defaults, field)}")
    # learning_rate defaults to None (the method's own rate), and the scaffold leaves unset fields out.
    expect(editor).not_to_contain_text("learning_rate")
    dialog.locator(".CodeMirror-line").filter(has_text="method").first.click()
    description = TrainConfig.model_fields["method"].description
    assert description
    expect(dialog).to_contain_text(description)
    save_screenshot(page, "launchpad")
