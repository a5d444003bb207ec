"""The browser harness itself, on a tiny loopback site served with a strict CSP: clean pages
pass and are screenshotted, errors are caught, injected scripts are blocked and reported."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from tests.browser.harness import BROWSER_MARKS, WatchedPage, png_width

pytestmark = BROWSER_MARKS

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
STYLE = """
body { font: 16px/1.5 sans-serif; margin: 1rem auto; max-width: 40rem; padding: 0 1rem; }
@media (prefers-color-scheme: dark) { body { background: #111; color: #eee; } }
"""
PAGES = {
    "/": '<h1>Digest</h1><p><a href="/story">A story</a></p>'
    '<form action="/search"><input name="q" aria-label="Search"><button>Search</button></form>',
    "/story": "<h1>A story</h1><p>Its summary.</p>",
    # A feed title that reached the page unescaped, as it would if escaping failed.
    "/hostile": "<h1>Title <script>window.pwned = true</script></h1>",
    "/broken": '<h1>Broken</h1><img src="/missing.png" alt="missing">',
}


def document(body: str) -> str:
    """A whole HTML page around ``body``, with the site's stylesheet."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Tiny site</title><link rel="stylesheet" href="/style.css"></head>'
        f"<body>{body}</body></html>"
    )


async def serve(request: web.Request) -> web.Response:
    """Serve the page, stylesheet or icon at the request's path, under the strict CSP."""
    headers = {"Content-Security-Policy": CSP}
    if request.path == "/style.css":
        return web.Response(text=STYLE, content_type="text/css", headers=headers)
    if request.path == "/favicon.ico":
        return web.Response(status=204, headers=headers)
    if request.path in PAGES:
        page = document(PAGES[request.path])
        return web.Response(text=page, content_type="text/html", headers=headers)
    return web.Response(status=404, text="not found", headers=headers)


@pytest_asyncio.fixture(loop_scope="session")
async def site() -> AsyncIterator[str]:
    """The tiny site on 127.0.0.1; yields its base URL."""
    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_clean_page_passes_and_is_screenshotted(site: str, browser_page: WatchedPage) -> None:
    """A page with no errors passes; following its link works; screenshots are written at
    phone and desktop widths, in light and dark, each as wide as its viewport."""
    page = browser_page.page
    await page.goto(f"{site}/")
    await page.get_by_role("link", name="A story").click()
    await page.wait_for_url(f"{site}/story")
    paths = await browser_page.screenshots("story", schemes=("light", "dark"))
    assert [png_width(path) for path in paths] == [390, 1280, 390, 1280]
    assert browser_page.csp_violations == []


async def test_csp_blocks_script_in_the_markup(site: str, browser_page: WatchedPage) -> None:
    """A <script> that reached the HTML does not run: the CSP blocks it, the page reports the
    violation and the browser logs the refusal."""
    page = browser_page.page
    await page.goto(f"{site}/hostile")
    await browser_page.wait_for_csp_violations(1)
    assert await page.evaluate("window.pwned") is None
    [violation] = browser_page.csp_violations
    assert (violation.directive, violation.blocked) == ("script-src-elem", "inline")
    assert len(browser_page.take_errors("Content Security Policy")) == 1


async def test_csp_blocks_script_injected_at_run_time(site: str, browser_page: WatchedPage) -> None:
    """A script element added to a loaded page does not run either, and is reported."""
    page = browser_page.page
    await page.goto(f"{site}/")
    await page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.pwned = true'; document.body.append(s); }"
    )
    await browser_page.wait_for_csp_violations(1)
    assert await page.evaluate("window.pwned") is None
    assert browser_page.csp_violations[0].directive == "script-src-elem"
    assert browser_page.take_errors("Content Security Policy")


async def test_console_errors_fail_the_check(site: str, browser_page: WatchedPage) -> None:
    """A resource that fails to load is a recorded browser error, which `assert_clean`
    (run after every browser test) turns into a failure."""
    page = browser_page.page
    await page.goto(f"{site}/broken")
    with pytest.raises(AssertionError, match="404"):
        browser_page.assert_clean()
    assert browser_page.take_errors("404")
