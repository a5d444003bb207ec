"""A published channel's pages in a real browser: the bot's web server on loopback over a real
SQLite store, read in headless chromium the way a reader would, at phone and desktop widths,
light and dark; no browser errors, hostile feed text shown as text, and the CSP holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Dialog

from tests.browser.harness import BROWSER_MARKS, WatchedPage, png_width
from tests.web_rig import Story, WebRig, seed_digest, web_rig

pytestmark = BROWSER_MARKS

FLOODS = Story(
    "Floods close schools across the region",
    "Heavy rain has closed more than 200 schools; roads are cut off in the north.",
    "https://example.org/world/floods",
    ("Floods", "Weather"),
    also=(Story("Rain shuts schools", "Schools shut.", "https://example.net/rain", feed="Other"),),
)
LAYOUT = Story(
    "Open-source browser engine ships a new layout model",
    "The release rewrites how pages are laid out, cutting load times by a fifth.",
    "https://example.org/tech/layout",
    ("Technology",),
    feed="Other",
)
# What a hostile feed could send: markup in the title, script and javascript: links elsewhere.
HOSTILE_TITLE = "<script>alert(1)</script> Breaking & “quoted”"
HOSTILE = Story(
    HOSTILE_TITLE,
    '<img src=x onerror=alert(2)> summary <a href="javascript:alert(3)">x</a>',
    "javascript:alert(4)",
    ("<b>bold</b>",),
)


@pytest_asyncio.fixture(loop_scope="session")
async def channel(tmp_path: Path) -> AsyncIterator[tuple[WebRig, str]]:
    """The web server over a fresh database whose console channel has posted one digest of
    stories from two outlets, one of them hostile, and is published; yields the rig and the
    channel's page link."""
    async with web_rig(tmp_path) as rig:
        await seed_digest(rig.core, [FLOODS, HOSTILE, LAYOUT], title="Morning digest")
        yield rig, await rig.publish("console")


def fail_on_dialog(dialog: Dialog) -> None:
    """A page that opens an alert ran script it was sent: fail the test."""
    raise AssertionError(f"the page opened a {dialog.type}: {dialog.message}")


async def test_reader_opens_digest_follows_a_story_and_searches(
    channel: tuple[WebRig, str], browser_page: WatchedPage
) -> None:
    """The latest digest opens, its first story's link leads to the story page, the search
    form finds stories; every page renders at both widths in light and dark, as wide as the
    screen (nothing overflows sideways), with no browser errors."""
    _rig, link = channel
    page = browser_page.page
    await page.goto(link)
    assert await page.locator("h1").inner_text() == "Morning digest"
    shots = await browser_page.screenshots("digest", schemes=("light", "dark"))

    await page.get_by_role("link", name=FLOODS.title).click()
    await page.wait_for_url(f"{link}s/*")
    assert await page.locator("h1").inner_text() == FLOODS.title
    assert await page.get_by_role("link", name=f"Other: {FLOODS.also[0].title}").count() == 1
    shots += await browser_page.screenshots("story", schemes=("light", "dark"))

    await page.get_by_label("Search this channel's stories").fill("layout")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url(f"{link}search?q=layout")
    assert await page.locator("h1").inner_text() == "Search: layout"
    results = page.locator("article.story h2")
    assert await results.all_inner_texts() == [LAYOUT.title]
    shots += await browser_page.screenshots("search", schemes=("light", "dark"))

    assert [png_width(path) for path in shots] == [390, 1280] * 6
    assert browser_page.csp_violations == []


async def test_hostile_feed_text_is_shown_as_text(
    channel: tuple[WebRig, str], browser_page: WatchedPage
) -> None:
    """A title with a <script> and a javascript: link reach the page as visible text: no
    script element, no alert, no javascript: link, nothing for the CSP to block."""
    _rig, link = channel
    page = browser_page.page
    page.on("dialog", fail_on_dialog)
    await page.goto(link)
    heading = page.get_by_role("heading", name=HOSTILE_TITLE)
    assert await heading.inner_text() == HOSTILE_TITLE
    assert await page.evaluate("document.scripts.length") == 0
    hrefs = await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert hrefs and not [href for href in hrefs if not href.startswith("http")]
    await heading.get_by_role("link").click()
    await page.wait_for_url(f"{link}s/*")
    assert await page.locator("h1").inner_text() == HOSTILE_TITLE
    assert await page.get_by_role("link", name="Read it at World").count() == 0
    await browser_page.screenshots("hostile-story")
    assert browser_page.csp_violations == []


async def test_csp_blocks_a_script_injected_into_the_page(
    channel: tuple[WebRig, str], browser_page: WatchedPage
) -> None:
    """Were a script to get into a digest page, the server's Content-Security-Policy would
    stop it: an inline script element added to the live page does not run, and the browser
    reports the violation."""
    _rig, link = channel
    page = browser_page.page
    await page.goto(link)
    await page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.pwned = true'; document.body.append(s); }"
    )
    await browser_page.wait_for_csp_violations(1)
    assert await page.evaluate("window.pwned") is None
    [violation] = browser_page.csp_violations
    assert (violation.directive, violation.blocked) == ("script-src-elem", "inline")
    assert len(browser_page.take_errors("Content Security Policy")) == 1


async def test_keyboard_reaches_the_first_link_with_visible_focus(
    channel: tuple[WebRig, str], browser_page: WatchedPage
) -> None:
    """One Tab from the top of the page focuses the first link ("Skip to content"), which
    then shows on screen with a visible focus outline, in light and dark."""
    _rig, link = channel
    page = browser_page.page
    await page.goto(link)
    await page.keyboard.press("Tab")
    focused = await page.evaluate(
        "() => { const e = document.activeElement, s = getComputedStyle(e),"
        " r = e.getBoundingClientRect();"
        " return {tag: e.tagName, text: e.textContent, visible: e.matches(':focus-visible'),"
        " outline: s.outlineStyle + ' ' + s.outlineWidth, left: r.left}; }"
    )
    assert (focused["tag"], focused["text"]) == ("A", "Skip to content")
    assert focused["visible"] and focused["outline"] == "solid 3px"
    assert focused["left"] >= 0  # moved on screen
    await browser_page.screenshots("focus", schemes=("light", "dark"))
