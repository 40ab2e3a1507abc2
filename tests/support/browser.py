"""Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright (never
`playwright install`, which downloads browsers). Without it the browser tests skip, and the run ends with
one loud line saying so (pytest's terminal summary), never silently."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("SCIM_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
_MISSING = f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (apt-get install -y --no-install-recommends chromium)"
_skipped: list[str] = []


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _skipped.append(_MISSING)
        pytest.skip(_MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped:
        terminalreporter.write_line(_MISSING, red=True, bold=True)
