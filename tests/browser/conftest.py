"""Console tests in a real headless Chromium, through a real ``ironledger serve`` process.

The browser is Debian's ``chromium`` (``IRONLEDGER_CHROMIUM`` names another), driven by
Playwright's Python API; Playwright never downloads a browser here. Without a browser the
tests are skipped with the reason, except under ``CI=true``, where that is a failure.

Each test gets a fresh browser context (no cookies) on the demo server of its store (the
``demo_server`` of the end-to-end tier). Screenshots of the main pages are saved under
``test-output/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from interfaces.demo import DEMO_PASSWORD
from tests.conftest import IN_CI
from tests.e2e.conftest import demo_server, session_launcher, store  # noqa: F401  (the servers of the e2e tier)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("IRONLEDGER_SCREENSHOTS", ROOT / "test-output" / "screenshots"))
CHROMIUM = os.environ.get("IRONLEDGER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """One Chromium for the browser tests of a store, closed after them: Playwright's sync API
    keeps an event loop running meanwhile, and later tests call ``asyncio.run``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:  # pragma: no cover - the test extra installs it
        _missing(f"Playwright is not installed ({error}); `python3 dev.py test` installs it.")
    if not CHROMIUM or not Path(CHROMIUM).exists():
        _missing("no Chromium found: install Debian's `chromium` (apt install chromium fonts-noto-cjk) "
                 "or name one in IRONLEDGER_CHROMIUM.")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield launched
        finally:
            launched.close()


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests need a browser under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


class Office:
    """One person at the console: a page of their own browser context."""

    def __init__(self, page, base_url: str, store: str) -> None:
        self.page = page
        self.base_url = base_url
        self.store = store

    def open(self, path: str):
        self.page.goto(self.base_url + path)
        return self.page

    def sign_in(self, username: str, password: str = DEMO_PASSWORD):
        self.open("/")
        self.page.fill("#f-username", username)
        self.page.fill("#f-password", password)
        self.page.click("button.primary")
        self.page.wait_for_load_state()
        return self.page

    def shot(self, name: str, full_page: bool = True) -> Path:
        """A screenshot for a person to look at (one per store)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}-{self.store}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def post_raw(self, path: str, form: dict[str, str]):
        """A form sent by hand from this browser (its cookies, no page): what a forced post does."""
        return self.page.request.post(self.base_url + path, form=form, max_redirects=0)


@pytest.fixture
def person(browser, demo_server, store) -> Iterator[object]:  # noqa: F811
    """``person(width=390)``: another person, each with a browser context of their own."""
    contexts = []

    def make(width: int = 1280, locale: str = "zh-CN") -> Office:
        context = browser.new_context(locale=locale, viewport={"width": width, "height": 860})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Office(context.new_page(), demo_server.url, store)

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
