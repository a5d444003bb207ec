"""What every chat platform adapter offers the app: a Sender that starts and stops."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from bot.ports import Sender


class PlatformError(Exception):
    """A platform can't be used at all (bad token, unreachable API); shown to the host."""


class ChatAdapter(Sender, Protocol):
    """A connected platform: entering connects (and syncs commands), leaving disconnects."""

    async def __aenter__(self) -> Self:
        """Connect; raise PlatformError with a one-line reason when that's impossible."""

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        """Finish the message in flight, then disconnect."""
