"""Screenshots kept as test artifacts. README images come from a real run: docs/take_screenshots.py."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import FloatRect, Locator, Page

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts" / "ui"


def save_screenshot(page: Page, name: str, *, clip: FloatRect | None = None) -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=path, clip=clip)
    return path


def bounding_clip(locators: list[Locator], left: float, top: float, right: float, bottom: float) -> FloatRect:
    """The smallest rectangle around every element the locators match, padded on each side."""
    boxes = [box for locator in locators for element in locator.all() if (box := element.bounding_box())]
    x = max(min(b["x"] for b in boxes) - left, 0.0)
    y = max(min(b["y"] for b in boxes) - top, 0.0)
    width = max(b["x"] + b["width"] for b in boxes) + right - x
    height = max(b["y"] + b["height"] for b in boxes) + bottom - y
    return {"x": x, "y": y, "width": width, "height": height}
