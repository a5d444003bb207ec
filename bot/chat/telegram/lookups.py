"""The lookups behind "More" and "Related" buttons: what to run next, in a bounded memory."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.commands import MAX_COUNT, split_command
from bot.model import Reply

LATEST_COUNT = 5  # how many stories /latest shows when no count is given
PAGE = 5  # how many more stories a "More" press asks for
MAX_LOOKUPS = 2000  # recent lookups whose buttons still work; older ones say "expired"
MORE, RELATED = "more", "rel"
LABELS = {MORE: "More", RELATED: "Related"}


@dataclass(frozen=True, slots=True)
class Lookup:
    """A lookup answered in a chat: how to run it again for more, and its lead story."""

    chat_id: int
    name: str  # "latest" or "search"
    words: str  # the tag of /latest, the words of /search
    shown: int  # stories shown so far, over every page
    has_more: bool  # whether asking for more may find some
    first_url: str  # the first story of the newest page, for "Related" ("" = none)

    @property
    def actions(self) -> tuple[str, ...]:
        """The buttons this lookup offers."""
        return tuple(a for a, on in ((MORE, self.has_more), (RELATED, self.first_url)) if on)

    def more_command(self) -> tuple[str, str]:
        """The command and arguments that return these stories and a page more."""
        return self.name, f"{self.words} {min(self.shown + PAGE, MAX_COUNT)}".strip()

    def next_page(self, reply: Reply) -> tuple[Reply, Lookup] | None:
        """The stories of `reply` not shown yet, and the lookup they continue; None if none."""
        page = reply.items[self.shown:]
        if not page:
            return None
        asked = min(self.shown + PAGE, MAX_COUNT)
        shown = len(reply.items)
        following = replace(self, shown=shown, first_url=page[0].article.url,
                            has_more=asked <= shown < MAX_COUNT)
        return replace(reply, items=page), following


def split_count(args: str) -> tuple[str, int | None]:
    """`/latest`'s arguments -> (tag, count), as the command reads them."""
    words = args.split()
    if words and words[-1].isdigit():
        return " ".join(words[:-1]), int(words[-1])
    return " ".join(words), None


def lookup_of(chat_id: int, command: str, reply: Reply) -> Lookup | None:
    """The lookup a command reply offers buttons for: /latest or /search with stories."""
    if not reply.items or not command.startswith("/"):
        return None
    name, args = split_command(command)
    shown, first_url = len(reply.items), reply.items[0].article.url
    if name == "latest":
        tag, count = split_count(args)
        asked = max(1, min(count or LATEST_COUNT, MAX_COUNT))
        return Lookup(chat_id, name, tag, shown, asked <= shown < MAX_COUNT, first_url)
    if name == "search":  # /search takes no count yet: "Related" only
        return Lookup(chat_id, name, args, shown, False, first_url)
    return None


def button_data(action: str, key: str) -> str:
    """The callback data of one button: well within Telegram's 64 bytes."""
    return f"{action}:{key}"


def keyboard(key: str, lookup: Lookup) -> InlineKeyboardMarkup | None:
    """One row of buttons for the lookup remembered under key; None when it offers none."""
    buttons = [InlineKeyboardButton(LABELS[action], callback_data=button_data(action, key))
               for action in lookup.actions]
    return InlineKeyboardMarkup([buttons]) if buttons else None


def without_button(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    """The keyboard minus the button carrying data; None when nothing is left."""
    rows = [[b for b in row if b.callback_data != data]
            for row in (markup.inline_keyboard if markup else ())]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


class Lookups:
    """Recent lookups by short random key, the oldest forgotten first; each button works once."""

    def __init__(self, capacity: int = MAX_LOOKUPS) -> None:
        self._capacity = capacity
        self._lookups: OrderedDict[str, Lookup] = OrderedDict()
        self._used: dict[str, set[str]] = {}

    def remember(self, lookup: Lookup) -> str:
        """Keep the lookup; returns the key its buttons carry."""
        key = secrets.token_urlsafe(9)
        self._lookups[key] = lookup
        while len(self._lookups) > self._capacity:
            old, _ = self._lookups.popitem(last=False)
            self._used.pop(old, None)
        return key

    def find(self, data: str, chat_id: int) -> tuple[str, str, Lookup] | None:
        """(action, key, lookup) a button's data names in this chat; None if unknown or forgotten.

        Callback data comes from the client and is not trusted: a key only works in its chat.
        """
        action, _, key = data.partition(":")
        lookup = self._lookups.get(key)
        if lookup is None or lookup.chat_id != chat_id or action not in lookup.actions:
            return None
        return action, key, lookup

    def claim(self, key: str, action: str) -> bool:
        """Take a button for one press; False when it was pressed already."""
        used = self._used.setdefault(key, set())
        if action in used:
            return False
        used.add(action)
        return True

    def release(self, key: str, action: str) -> None:
        """Give a button back after a press that was refused or failed."""
        self._used.get(key, set()).discard(action)
