"""Turning the web server on: its config, the channels the file publishes, a taken port, the
link `newsbot run` prints, and the plain page an unexpected error gets."""

from __future__ import annotations

import logging
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import open_core, serve_web
from bot.chat.adapter import PlatformError
from bot.chat.request import Caller
from bot.config import ConfigError, load_config
from bot.web.http import error_middleware
from bot.web.links import Links
from bot.web.pages import Pages
from tests.fakes.feed_server import FeedServer

ROOT = Path(__file__).parent.parent
MODERATOR = Caller(channel_id="console", user_id="console", is_moderator=True)
LINK = re.compile(r"This channel on the web: (http://\S+)")


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("text", "message"), [
    ('[web]\nlisten = "8080"\n', 'web.listen: "8080" is not host:port'),
    ('[web]\npublic_url = "ftp://example.org"\n', "web.public_url: "),
    ('[web]\npublic_url = "https://example.org/?a=1"\n', "has a query or fragment"),
    ('[web]\nlisten = "127.0.0.1:8080"\nport = 1\n', "web.port: unknown key"),
    ('[[channels]]\nid = "console"\npublish = true\n',
     "channels[0].publish: needs the web server"),
])
def test_bad_web_config_names_file_and_key(write_config: Callable[[str], Path], text: str,
                                           message: str) -> None:
    """Each mistake in [web] or `publish` is one line naming the file and the key."""
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_links_default_to_the_listen_address(write_config: Callable[[str], Path]) -> None:
    """Without public_url, links are built from listen; with one, its path prefixes them."""
    plain = load_config(write_config('[web]\nlisten = "127.0.0.1:8081"\n'), environ={})
    proxied = load_config(write_config('[web]\npublic_url = "https://example.org/news/"\n'),
                          environ={})
    assert plain.model.web is not None and proxied.model.web is not None
    assert Links(plain.model.web.base_url).page_link("t") == "http://127.0.0.1:8081/c/t/"
    assert Links(proxied.model.web.base_url).page_link("t") == "https://example.org/news/c/t/"
    assert load_config(write_config(""), environ={}).model.web is None


async def test_publish_without_a_web_server_says_so(write_config: Callable[[str], Path]) -> None:
    """With no [web] section, /publish on explains that the operator must turn it on."""
    async with open_core(load_config(write_config(""), environ={})) as core:
        reply = await core.commands.handle(MODERATOR, "/publish on")
    assert "no web server" in reply.text and "[web]" in reply.text
    async with open_core(load_config(write_config(""), environ={})) as core:
        assert await core.store.channels.page_token("console") is None


async def test_config_publish_makes_the_page_once(write_config: Callable[[str], Path]) -> None:
    """`publish = true` gives the channel a page at the first start and keeps its address;
    once a moderator takes it down, a restart does not bring it back."""
    text = (f'[web]\nlisten = "127.0.0.1:{free_port()}"\n'
            '[[channels]]\nid = "console"\npublish = true\n')
    config = load_config(write_config(text), environ={})
    tokens = []
    for _ in range(2):
        async with open_core(config) as core, serve_web(core):
            tokens.append(await core.store.channels.page_token("console"))
    assert tokens[0] is not None and tokens[0] == tokens[1]
    async with open_core(config) as core:
        await core.commands.handle(MODERATOR, "/publish off")
    async with open_core(config) as core, serve_web(core):
        assert await core.store.channels.page_token("console") is None


async def test_a_taken_port_is_a_clear_error(write_config: Callable[[str], Path]) -> None:
    """When the address is in use, starting says so with the address, as a PlatformError."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        config = load_config(write_config(f'[web]\nlisten = "{listen}"\n'), environ={})
        async with open_core(config) as core:
            with pytest.raises(PlatformError, match=f"web: can't listen on {listen}: "):
                async with serve_web(core):
                    pass


async def test_an_unexpected_error_is_logged_and_a_plain_500(
        caplog: pytest.LogCaptureFixture) -> None:
    """A handler that fails logs its traceback (its path without the page token); the client
    sees a plain 500 page."""
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail")

    app = web.Application(middlewares=[error_middleware(Pages(Links("http://x")), 1024)])
    app.router.add_get("/c/{token}/", broken)
    caplog.set_level(logging.ERROR)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/c/SECRETtoken/")
        body = await response.text()
    assert response.status == 500 and "Internal Server Error" in body
    assert "secret detail" not in body and "Traceback" not in body
    assert "secret detail" in caplog.text and "GET /c/…/ failed" in caplog.text
    assert "SECRETtoken" not in caplog.text


@pytest.mark.slow
def test_run_prints_the_console_page_and_serves_it(feed_server: FeedServer,
                                                   write_config: Callable[[str], Path]) -> None:
    """`newsbot run` with [web] and a published console prints the link at start; the page
    serves the digest printed to the terminal; SIGTERM stops both."""
    config = write_config(
        f'[web]\nlisten = "127.0.0.1:{free_port()}"\n[fetch]\nallow_private_addresses = true\n'
        f'[[feeds]]\nurl = "{feed_server.url("world_news.xml")}"\n'
        '[[channels]]\nid = "console"\ndigest = "daily 08:00"\npublish = true\n')
    proc = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    link = ""
    for line in proc.stdout:  # the link first, then the digest
        link = link or (found.group(1) if (found := LINK.search(line)) else "")
        if "News digest" in line:
            break
    with urllib.request.urlopen(link, timeout=10) as response:
        page = response.read().decode()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert link and "News digest" in page and proc.returncode == 0, err
    assert "Traceback" not in err
