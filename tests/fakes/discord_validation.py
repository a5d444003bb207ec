"""Request-body validation the way Discord's API does it, raising :class:`ApiError`.

Lengths are counted in Unicode code points (Python ``len``), as Discord documents them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_FIELDS = 25
MAX_NONCE = 25
_EMBED_LIMITS = {"title": 256, "description": 4096}
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
_MENTION_PARSE = frozenset({"roles", "users", "everyone"})


class ApiError(Exception):
    """An error response: HTTP status plus Discord's JSON error body."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        """The JSON body Discord sends for this error."""
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


class FormErrors:
    """Collects field errors into Discord's nested ``{"a": {"0": {"_errors": []}}}`` tree."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        """Record an error at ``path`` (keys and list indexes)."""
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], value: object, limit: int) -> None:
        """Record BASE_TYPE_MAX_LENGTH if ``value`` is a string longer than ``limit``."""
        if isinstance(value, str) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def raise_if_any(self) -> None:
        """Raise 400/50035 Invalid Form Body if anything was recorded."""
        if self.tree:
            raise ApiError(400, 50035, "Invalid Form Body", self.tree)


@dataclass(frozen=True)
class Refusal:
    """Messages Discord refuses for good with 400/50035: those holding ``marker`` in their
    content or embeds; only messages with embeds unless ``plain_too``."""

    marker: str
    plain_too: bool

    def check(self, body: JSON) -> None:
        """Raise Invalid Form Body, naming the first embed's description (or the content)."""
        embeds = body.get("embeds") or []
        shown = json.dumps([body.get("content"), embeds], ensure_ascii=False)
        if self.marker not in shown or not (embeds or self.plain_too):
            return
        errors = FormErrors()
        if embeds:
            errors.add(("embeds", 0, "description"), "BASE_TYPE_BAD_LENGTH",
                       "Must be between 1 and 4096 in length.")
        else:
            errors.add(("content",), "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        errors.raise_if_any()


def _text(value: object) -> str:
    """A string field's text, or '' when absent."""
    return value if isinstance(value, str) else ""


def _embed_text_size(embed: JSON) -> int:
    """Characters that count towards the 6000 limit for one embed."""
    size = len(_text(embed.get("title"))) + len(_text(embed.get("description")))
    size += len(_text((embed.get("footer") or {}).get("text")))
    size += len(_text((embed.get("author") or {}).get("name")))
    for fld in embed.get("fields") or []:
        size += len(_text(fld.get("name"))) + len(_text(fld.get("value")))
    return size


def _check_fields(errors: FormErrors, base: tuple[str | int, ...], fields: list[JSON]) -> None:
    """Embed field count, names and values."""
    if len(fields) > MAX_FIELDS:
        errors.add((*base, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for j, fld in enumerate(fields):
        for key, limit in (("name", 256), ("value", 1024)):
            value = fld.get(key)
            if not isinstance(value, str) or not value:
                errors.add(
                    (*base, "fields", j, key), "BASE_TYPE_REQUIRED", "This field is required"
                )
            errors.max_length((*base, "fields", j, key), value, limit)


def _check_embed(errors: FormErrors, index: int, embed: JSON) -> None:
    """Per-field limits of one embed."""
    base: tuple[str | int, ...] = ("embeds", index)
    for key, limit in _EMBED_LIMITS.items():
        errors.max_length((*base, key), embed.get(key), limit)
    errors.max_length((*base, "footer", "text"), (embed.get("footer") or {}).get("text"), 2048)
    errors.max_length((*base, "author", "name"), (embed.get("author") or {}).get("name"), 256)
    _check_fields(errors, base, list(embed.get("fields") or []))


def check_embeds(errors: FormErrors, embeds: list[JSON]) -> None:
    """Count, per-embed limits and the 6000-character total."""
    if len(embeds) > MAX_EMBEDS:
        errors.add(("embeds",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    for i, embed in enumerate(embeds):
        _check_embed(errors, i, embed)
    if sum(_embed_text_size(e) for e in embeds) > MAX_EMBED_TOTAL:
        errors.add(
            ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


def check_allowed_mentions(errors: FormErrors, mentions: JSON | None) -> None:
    """``parse`` values and their exclusivity with explicit id lists."""
    if mentions is None:
        return
    parse = list(mentions.get("parse") or [])
    for i, item in enumerate(parse):
        if item not in _MENTION_PARSE:
            errors.add(
                ("allowed_mentions", "parse", i),
                "BASE_TYPE_CHOICES",
                "Value must be one of roles, users, everyone.",
            )
    for key in ("users", "roles"):
        if key in parse and mentions.get(key):
            errors.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
            )


def has_body(body: JSON) -> bool:
    """Whether a message body would show anything (else 50006 Cannot send an empty message)."""
    content = body.get("content")
    if isinstance(content, str) and content.strip():
        return True
    return any(
        body.get(key) for key in ("embeds", "attachments", "sticker_ids", "components", "poll")
    )


def check_message(body: JSON, *, partial: bool = False) -> None:
    """Validate a create (or, with ``partial``, edit) message body like Discord."""
    errors = FormErrors()
    errors.max_length(("content",), body.get("content"), MAX_CONTENT)
    check_embeds(errors, list(body.get("embeds") or []))
    check_allowed_mentions(errors, body.get("allowed_mentions"))
    nonce = body.get("nonce")
    errors.max_length(("nonce",), nonce, MAX_NONCE)
    errors.raise_if_any()
    if not partial and not has_body(body):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _nesting_ok(otype: object, parent: int | None) -> bool:
    """Groups only at top level; sub-commands at top level or inside a group."""
    if otype == 2:
        return parent is None
    if otype == 1:
        return parent in (None, 2)
    return parent != 2


def _check_option(
    errors: FormErrors, path: tuple[str | int, ...], opt: JSON, parent: int | None
) -> None:
    """One command option, recursing into sub-commands and groups."""
    _check_name_desc(errors, path, opt, chat_input=True)
    otype = opt.get("type")
    if not _nesting_ok(otype, parent):
        errors.add(
            (*path, "type"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Invalid option nesting."
        )
    if otype in (1, 2):
        _check_options(errors, (*path, "options"), list(opt.get("options") or []), int(otype))
    if len(opt.get("choices") or []) > 25:
        errors.add((*path, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")


def _check_options(
    errors: FormErrors, path: tuple[str | int, ...], options: list[JSON], parent: int | None
) -> None:
    """Option list: count, unique names, required before optional."""
    if len(options) > 25:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    seen_optional = False
    names: set[str] = set()
    for i, opt in enumerate(options):
        if opt.get("name") in names:
            errors.add(
                (*path, i, "name"),
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Duplicate name.",
            )
        names.add(str(opt.get("name")))
        if opt.get("type") not in (1, 2):
            if opt.get("required") and seen_optional:
                errors.add(
                    (*path, i, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
            seen_optional = seen_optional or not opt.get("required")
        _check_option(errors, (*path, i), opt, parent)


def _check_name_desc(
    errors: FormErrors, path: tuple[str | int, ...], item: JSON, *, chat_input: bool
) -> None:
    """Name pattern (lowercase for slash commands) and description length."""
    name = _text(item.get("name"))
    valid = (
        _COMMAND_NAME.match(name) is not None and name == name.lower()
        if chat_input
        else 0 < len(name) <= 32
    )
    if not valid:
        errors.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    desc = _text(item.get("description"))
    if chat_input and not 1 <= len(desc) <= 100:
        errors.add(
            (*path, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )


def check_commands(commands: list[JSON]) -> None:
    """Validate a bulk-overwrite list of application commands."""
    errors = FormErrors()
    if sum(1 for c in commands if c.get("type", 1) == 1) > 100:
        errors.add((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        ctype = int(cmd.get("type", 1))
        key = (ctype, _text(cmd.get("name")))
        if key in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
        _check_name_desc(errors, (i,), cmd, chat_input=ctype == 1)
        _check_options(errors, (i, "options"), list(cmd.get("options") or []), None)
    errors.raise_if_any()


def check_choices(choices: list[JSON]) -> None:
    """Validate an autocomplete result (callback type 8)."""
    errors = FormErrors()
    if len(choices) > 25:
        errors.add(("data", "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.add(
                ("data", "choices", i, "name"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        errors.max_length(("data", "choices", i, "value"), choice.get("value"), 100)
    errors.raise_if_any()
