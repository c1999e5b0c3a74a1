"""Browser fixtures: one Debian chromium per session, a fresh context (cookies, language) per test.

The live server runs in a thread of this process and talks to the test database, so every test
here uses ``transactional_db`` (pulled in by ``live_server``) and rebuilds what it needs.
"""

from __future__ import annotations

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEMO_PASSWORD = "Demo-Pass-2026!"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    # Desktop width: below Bootstrap's lg breakpoint the navbar menu collapses and is hidden.
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def demo_hospital(live_server):
    """The demo hospital with one known password for every account (flushed after the test)."""
    from careloop.demo.builder import build_demo

    build_demo(seed=2026, password=DEMO_PASSWORD)
    return DEMO_PASSWORD
