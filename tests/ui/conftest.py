"""Fixtures: one `dagster dev` per module over a fully materialized tiny project, and headless Chromium."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.ui.graphql import GraphQL
from tests.ui.screens import ARTIFACTS_DIR, PROJECT_ROOT
from tests.ui.server import DagsterDevServer
from tests.ui.workspace import materialize_all, prepare_workspace

CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, never a downloaded browser; nothing may reach the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOOT_TIMEOUT_S = 150.0
# Page loads on 2 busy cores take seconds; Playwright's 5 s default for `expect` is too tight.
UI_TIMEOUT_MS = 30_000


CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each test's outcome where the page fixture can see it, to screenshot failures."""
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@dataclass(frozen=True)
class DagsterUI:
    url: str
    location: str
    run_id: str


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUI]:
    workspace = prepare_workspace(tmp_path_factory.mktemp("dagster-ui"))
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    server = DagsterDevServer(
        cwd=PROJECT_ROOT,
        dagster_home=workspace.dagster_home,
        env=workspace.env(),
        log_path=ARTIFACTS_DIR / "dagster-dev.log",
    )
    server.start()
    try:
        result = materialize_all(workspace)  # while the server boots: both fit in the time of the slower
        assert result.success, [e.message for e in result.get_step_failure_events()]
        server.wait_until_up(BOOT_TIMEOUT_S)
        graphql = GraphQL(server.url)
        location = graphql.wait_for_location(BOOT_TIMEOUT_S)
        graphql.wait_for_idle(BOOT_TIMEOUT_S)
        yield DagsterUI(url=server.url, location=location, run_id=result.run_id)
    finally:
        server.stop()
    assert server.is_gone(), f"dagster dev left processes running: {server.alive()}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
        report = request.node.stash.get(CALL_REPORT, None)
        if report is not None and report.failed:
            page.screenshot(path=ARTIFACTS_DIR / f"FAILED-{request.node.name}.png")
    finally:
        context.close()
