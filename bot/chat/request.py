"""Who asked (Caller) and the error whose text the user sees (UserError)."""

from __future__ import annotations

from dataclasses import dataclass


class UserError(Exception):
    """A mistake the user can fix; the message is shown in chat as it is."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked, and where."""

    channel_id: str
    user_id: str
    is_moderator: bool
    is_private: bool = False  # a one-to-one chat with the bot, where anyone is a moderator
