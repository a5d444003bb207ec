"""The console channel: digests printed to the terminal, commands read from stdin."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import TextIO

from bot.chat.commands import Commands
from bot.chat.render_plain import render_plain
from bot.chat.request import Caller
from bot.model import CONSOLE_CHANNEL, Digest
from bot.ports import SentCallback
from bot.terminal import escape_terminal

log = logging.getLogger(__name__)


class ConsoleAdapter:
    """Posts the console channel's digests to stdout and answers commands typed on stdin."""

    def __init__(self, commands: Commands, out: TextIO = sys.stdout) -> None:
        self._commands = commands
        self._out = out
        self._reader: asyncio.Task[None] | None = None
        self._sent = 0

    def handles(self, channel_id: str) -> bool:
        """Only the channel called "console"."""
        return channel_id == CONSOLE_CHANNEL

    async def owns(self, channel_id: str) -> bool:
        """Each process has its own terminal."""
        return True

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        """Print the digest as one message."""
        self.print(render_plain(digest))
        self._sent += 1
        await sent(range(len(digest.items)), f"console-{self._sent}")

    def print(self, text: str) -> None:
        """Write a block of text followed by a blank line (control characters escaped)."""
        self._out.write(escape_terminal(text.rstrip("\n"), keep_newlines=True) + "\n\n")
        self._out.flush()

    async def start(self, stdin: TextIO = sys.stdin) -> None:
        """Read commands from stdin when it is a terminal."""
        if stdin.isatty():
            self.print("Type /help for commands; Ctrl-C stops the bot.")
            self._reader = asyncio.create_task(self._read(stdin))

    async def stop(self) -> None:
        """Stop reading stdin."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self, stdin: TextIO) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        caller = Caller(channel_id=CONSOLE_CHANNEL, user_id="console", is_moderator=True)
        while line := await reader.readline():
            text = line.decode(errors="replace").strip()
            if text:
                text = text if text.startswith("/") else "/" + text
                reply = await self._commands.handle(caller, text)
                self.print(render_plain(reply))
                if reply.file is not None:  # an OPML export: small text, shown as it is
                    self.print(reply.file.data.decode(errors="replace"))
