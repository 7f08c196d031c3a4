"""Screenshots: always kept as test artifacts, copied into docs/images when FT_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import FloatRect, Locator, Page

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts" / "ui"
DOCS_IMAGES_DIR = PROJECT_ROOT / "docs" / "images"
UPDATE_ENV = "FT_UPDATE_SCREENSHOTS"


def save_screenshot(page: Page, name: str, *, for_docs: bool = False, clip: FloatRect | None = None) -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=path, clip=clip)
    if for_docs and os.environ.get(UPDATE_ENV) == "1":
        DOCS_IMAGES_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES_DIR / f"{name}.png")
    return path


def bounding_clip(locators: list[Locator], left: float, top: float, right: float, bottom: float) -> FloatRect:
    """The smallest rectangle around every element the locators match, padded on each side."""
    boxes = [box for locator in locators for element in locator.all() if (box := element.bounding_box())]
    x = max(min(b["x"] for b in boxes) - left, 0.0)
    y = max(min(b["y"] for b in boxes) - top, 0.0)
    width = max(b["x"] + b["width"] for b in boxes) + right - x
    height = max(b["y"] + b["height"] for b in boxes) + bottom - y
    return {"x": x, "y": y, "width": width, "height": height}
