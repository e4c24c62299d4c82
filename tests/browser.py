"""A real browser for the web page's tests: Debian's Chromium driven by Playwright.

Playwright's own browser download cannot run here, so the project installs Chromium from
Debian's packages (scripts/install-chromium.sh, called by ``make install``) and launches it
from /usr/bin/chromium, headless, with a fresh profile and nothing that calls home.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

Scheme = Literal["dark", "light"]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def need_chromium() -> None:
    """Skip without Chromium on a developer's machine; fail in CI, where make installs it."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: run `make install` (scripts/install-chromium.sh)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium(profile: Path, color_scheme: Scheme = "dark") -> Iterator[BrowserContext]:
    """A browser context on a fresh profile directory, closed at the end of the block."""
    with chromiums([profile], color_scheme) as [context]:
        yield context


@contextmanager
def chromiums(
    profiles: list[Path], color_scheme: Scheme = "dark"
) -> Iterator[list[BrowserContext]]:
    """One browser per profile (each its own person), from one Playwright driver."""
    from playwright.sync_api import sync_playwright

    need_chromium()
    with sync_playwright() as playwright:
        contexts = [
            playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                args=ARGS,
                headless=True,
                viewport={"width": 1280, "height": 800},
                color_scheme=color_scheme,
            )
            for profile in profiles
        ]
        try:
            yield contexts
        finally:
            for context in contexts:
                context.close()
