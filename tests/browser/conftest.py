"""Browser fixtures: one headless chromium per test session (Playwright driving the system's
chromium), and per test a fresh context and page that fail the test on any browser error."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Generator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from tests.browser.harness import CHROMIUM_ARGS, WIDTHS, WatchedPage, chromium_path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless chromium, launched once for the session with a fresh profile.

    Without chromium the browser tests skip locally and fail in CI (CI=true), where `.ci/run`
    has installed it."""
    path = chromium_path()
    if path is None:
        reason = "chromium not found (apt-get install chromium, or set NEWSBOT_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser_page(
    browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[WatchedPage]:
    """A page in a fresh browser context (no cookies, desktop size, light scheme) that
    records console errors, page errors and CSP violations."""
    width, height = WIDTHS["desktop"]
    context = await browser.new_context(
        viewport={"width": width, "height": height}, color_scheme="light"
    )
    try:
        watched = WatchedPage(await context.new_page(), request.node.name)
        await watched.watch()
        yield watched
    finally:
        await context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A browser test fails, after its own checks, if its page logged an error it did not
    expect."""
    result = yield
    watched = getattr(item, "funcargs", {}).get("browser_page")
    if isinstance(watched, WatchedPage):
        watched.assert_clean()
    return result
