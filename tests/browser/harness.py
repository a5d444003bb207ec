"""The browser harness: where chromium and the artifacts are, and a page that records what went
wrong in it (console errors, page errors, Content-Security-Policy violations)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from playwright.async_api import ConsoleMessage, Page

from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]

# Every test in tests/browser: slow, one worker (so one chromium), the session's event loop
# (the browser lives on it). `--dist loadgroup` in pyproject.toml makes xdist honour the group.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.asyncio(loop_scope="session"),
]

# Headless as root on a closed network: no sandbox (root has none), no GPU, and nothing that
# would call Google's hosts (QUIC probes, component and variations updates, sync).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]

Scheme = Literal["light", "dark"]
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}

# Runs in every document before its own scripts, outside the page's CSP (the browser injects
# it), and reports each violation to Python through an exposed function.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => window.__newsbotCspViolation(
    e.effectiveDirective, e.blockedURI, e.disposition, e.documentURI));
"""


def chromium_path() -> str | None:
    """The chromium to drive: $NEWSBOT_CHROMIUM, else `chromium` on PATH."""
    return os.environ.get("NEWSBOT_CHROMIUM") or shutil.which("chromium")


def artifacts_dir() -> Path:
    """Where test artifacts go: $NEWSBOT_TEST_ARTIFACTS, else test-artifacts/ in the repo."""
    return Path(os.environ.get("NEWSBOT_TEST_ARTIFACTS") or ROOT / "test-artifacts")


def screenshots_dir() -> Path:
    """The screenshots folder inside the artifacts folder."""
    return artifacts_dir() / "screenshots"


@dataclass(frozen=True, slots=True)
class CspViolation:
    """One `securitypolicyviolation` event the page fired."""

    directive: str
    blocked: str
    disposition: str
    document: str


@dataclass
class WatchedPage:
    """A Playwright page with everything that went wrong in it, and screenshots by name.

    Console errors (including the browser's own, such as a failed load or a CSP refusal) and
    uncaught page errors fail the test unless the test takes them with `take_errors`."""

    page: Page
    test_name: str
    errors: list[str] = field(default_factory=list)
    csp_violations: list[CspViolation] = field(default_factory=list)

    async def watch(self) -> None:
        """Start recording console errors, page errors and CSP violations."""
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        await self.page.expose_function("__newsbotCspViolation", self._on_csp_violation)
        await self.page.add_init_script(CSP_LISTENER)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            at = f"{message.location['url']}:{message.location['lineNumber']}"
            self.errors.append(f"console error: {message.text} ({at})")

    def _on_csp_violation(self, directive: str, blocked: str, disposition: str, doc: str) -> None:
        self.csp_violations.append(CspViolation(directive, blocked, disposition, doc))

    def take_errors(self, pattern: str) -> list[str]:
        """Remove and return the recorded errors matching ``pattern`` (a regex): errors the
        test expects, which therefore do not fail it."""
        taken = [error for error in self.errors if re.search(pattern, error)]
        self.errors = [error for error in self.errors if error not in taken]
        return taken

    async def wait_for_csp_violations(self, count: int) -> None:
        """Let the page run until it has reported ``count`` CSP violations."""
        await wait_until(lambda: len(self.csp_violations) >= count)

    def assert_clean(self) -> None:
        """Fail if the page logged any error the test did not take."""
        assert not self.errors, "browser errors:\n" + "\n".join(self.errors)

    async def screenshots(self, name: str, schemes: tuple[Scheme, ...] = ("light",)) -> list[Path]:
        """Full-page screenshots of the current page at phone and desktop widths, in each
        colour scheme; returns their paths (`<test>-<name>-<width>-<scheme>.png`)."""
        folder = screenshots_dir()
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for scheme in schemes:
            await self.page.emulate_media(color_scheme=scheme)
            for label, (width, height) in WIDTHS.items():
                await self.page.set_viewport_size({"width": width, "height": height})
                stem = re.sub(r"[^\w.-]+", "_", f"{self.test_name}-{name}-{label}-{scheme}")
                path = folder / f"{stem}.png"
                await self.page.screenshot(path=path, full_page=True)
                paths.append(path)
        return paths


def png_width(path: Path) -> int:
    """The width in pixels a PNG file's header gives."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big")
