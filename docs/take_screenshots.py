"""README screenshots of a real run: the Dagster UI over the instance and artifacts that `make run` wrote.

    DAGSTER_HOME=/tmp/demo/home FT_ARTIFACTS_DIR=/tmp/demo/artifacts make run
    .venv/bin/python docs/take_screenshots.py /tmp/demo/home /tmp/demo/artifacts

The two folders are arguments, not this process's environment: the server's stop signals every process
that carries its DAGSTER_HOME, and that must not include the shell that started this script.

Starts `dagster dev` on a free loopback port against that DAGSTER_HOME (the same server and stop logic as
the browser test), drives Debian's headless Chromium and writes docs/images/*.png. The browser test
(tests/ui) checks the UI on a tiny random model; these images show the bundled MiniLM on the sample data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.ui.conftest import BOOT_TIMEOUT_S, CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, DagsterUI  # noqa: E402
from tests.ui.graphql import GraphQL  # noqa: E402
from tests.ui.screens import bounding_clip  # noqa: E402
from tests.ui.server import DagsterDevServer  # noqa: E402
from tests.ui.test_dagster_ui import ASSETS, GRAPH_VIEWPORT, open_asset_graph  # noqa: E402

IMAGES = ROOT / "docs" / "images"


def asset_graph(page: Page, url: str) -> None:
    page.set_viewport_size(GRAPH_VIEWPORT)
    open_asset_graph(page, DagsterUI(url=url, location="", run_id=""))
    page.get_by_role("button", name="Hide navigation").click()
    page.get_by_role("button", name="panel_show_right").click()
    page.keyboard.press("Alt+e")
    expect(page.locator("[class*=assetName]")).to_have_count(len(ASSETS))
    names = [page.get_by_text(name, exact=True) for name in ASSETS]
    expect(page.get_by_text("Materialized", exact=True)).to_have_count(len(ASSETS))
    page.screenshot(path=IMAGES / "asset_graph.png", clip=bounding_clip(names, 80, 100, 180, 220))


def settled(page: Page) -> None:
    """Wait out CSS transitions: a dialog is captured half faded in otherwise."""
    page.wait_for_function(
        "() => document.getAnimations()"
        ".every(a => !(a instanceof CSSTransition) || a.playState !== 'running')"
    )


def evaluation_report(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{url}/assets/evaluation_report?view=overview")
    expect(page.get_by_text("Latest materialization")).to_be_visible()
    rows = page.get_by_role("row")
    rows.filter(has=page.get_by_text("confusion_matrix", exact=True)).get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog").filter(has_text="confusion_matrix")
    image = dialog.get_by_role("img", name="confusion matrix")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    settled(page)
    page.screenshot(path=IMAGES / "evaluation_report.png")
    page.keyboard.press("Escape")
    rows.filter(has=page.get_by_text("report", exact=True)).get_by_text("[Show Markdown]").click()
    report = page.get_by_role("dialog").filter(has_text="Against the baselines")
    report.get_by_text("Against the baselines").scroll_into_view_if_needed()
    settled(page)
    page.screenshot(path=IMAGES / "evaluation_baselines.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dagster_home", type=Path, help="the DAGSTER_HOME that make run used")
    parser.add_argument("artifacts_dir", type=Path, help="the FT_ARTIFACTS_DIR that make run used")
    args = parser.parse_args()
    home = args.dagster_home.resolve()
    IMAGES.mkdir(parents=True, exist_ok=True)
    env = {"FT_ARTIFACTS_DIR": str(args.artifacts_dir.resolve()), "HF_HUB_OFFLINE": "1"}
    server = DagsterDevServer(cwd=ROOT, dagster_home=home, env=env, log_path=home / "dagster-dev.log")
    server.start()
    try:
        server.wait_until_up(BOOT_TIMEOUT_S)
        graphql = GraphQL(server.url)
        graphql.wait_for_location(BOOT_TIMEOUT_S)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.set_default_timeout(UI_TIMEOUT_MS * 2)
            expect.set_options(timeout=UI_TIMEOUT_MS * 2)
            page = context.new_page()
            asset_graph(page, server.url)
            evaluation_report(page, server.url)
            browser.close()
    finally:
        server.stop()
    print(f"screenshots in {IMAGES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
