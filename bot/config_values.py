"""Readers that turn a TOML value into a config key's typed value, or say what is wrong.

Each config section is a frozen dataclass whose fields are declared with `key(default, read)`;
`read_section` walks a TOML table through those readers. A mistake is a KeyProblem carrying
the key's path and the reason the user sees. (These few readers replace a general validation
library, which took most of the start-up time of the commands that only read the config.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

Location = tuple[str | int, ...]
Read = Callable[[object, Location], Any]


class KeyProblem(Exception):
    """A value the config cannot take: where (a key path) and why."""

    def __init__(self, key: str | Location, reason: str) -> None:
        super().__init__(reason)
        self.key = key if isinstance(key, str) else key_path(key)
        self.reason = reason


def key(default: Any = dataclasses.MISSING, *, read: Read,
        factory: Callable[[], Any] | None = None, shown: bool = True) -> Any:
    """A section's field: its default (none = required), how its TOML value is read, and
    whether repr shows it (not a value that may hold a password)."""
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"read": read}, repr=shown)
    return dataclasses.field(default=default, metadata={"read": read}, repr=shown)


def key_path(loc: Location) -> str:
    """`channels[0].digest` from ("channels", 0, "digest")."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "(top level)"


def show(value: object) -> str:
    """A value short enough to quote in an error line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _checked(read: Callable[[object], Any]) -> Read:
    """A reader whose ValueError becomes a KeyProblem at the key being read."""
    def run(value: object, loc: Location) -> Any:
        try:
            return read(value)
        except ValueError as error:
            raise KeyProblem(loc, str(error)) from None
    return run


def text(check: Callable[[str], str] | None = None) -> Read:
    """A string, then `check` (which raises ValueError with the reason) if given."""
    def read(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"input should be a valid string (got {show(value)})")
        return value if check is None else check(value)
    return _checked(read)


def bounded(number: int, low: int | None, high: int | None, unit: str = "") -> int:
    """`number` when it lies in [low, high] (either end open when None), else ValueError
    naming the bound; `unit` follows each number in the message (e.g. "s")."""
    if low is not None and number < low:
        raise ValueError(f"input should be greater than or equal to {low}{unit} "
                         f"(got {number}{unit})")
    if high is not None and number > high:
        raise ValueError(f"input should be less than or equal to {high}{unit} "
                         f"(got {number}{unit})")
    return number


def integer(low: int | None = None, high: int | None = None) -> Read:
    """A whole number in [low, high]; a quoted number or a whole float is taken too."""
    def read(value: object) -> int:
        return bounded(_whole(value), low, high)
    return _checked(read)


def _whole(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value) < 20:
        return int(value)
    raise ValueError(f"input should be a valid integer (got {show(value)})")


def flag() -> Read:
    """true or false."""
    def read(value: object) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"input should be a valid boolean (got {show(value)})")
        return value
    return _checked(read)


def converted(convert: Callable[[Any], Any]) -> Read:
    """Whatever `convert` makes of the raw value (it raises ValueError with the reason)."""
    return _checked(convert)


def choice(*options: str, fold_case: bool = False) -> Read:
    """One of `options` (any letter case when `fold_case`)."""
    listed = " or ".join(", ".join(repr(o) for o in options).rsplit(", ", 1))
    def read(value: object) -> str:
        found = value.lower() if fold_case and isinstance(value, str) else value
        if found not in options:
            raise ValueError(f"input should be {listed} (got {show(value)})")
        return str(value)
    return _checked(read)


def table_of_texts() -> Read:
    """A table of string values, as a dict."""
    read = text()
    def run(value: object, loc: Location) -> dict[str, str]:
        if not isinstance(value, dict):
            raise KeyProblem(loc, f"input should be a table (got {show(value)})")
        return {name: read(item, (*loc, name)) for name, item in value.items()}
    return run


@dataclasses.dataclass(frozen=True, slots=True)
class Many:
    """A TOML array, each item read by `item`, as a tuple."""

    item: Read

    def __call__(self, value: object, loc: Location) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise KeyProblem(loc, f"input should be a valid array (got {show(value)})")
        return tuple(self.item(item, (*loc, index)) for index, item in enumerate(value))


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    """A TOML table read into the section dataclass `kind`."""

    kind: type

    def __call__(self, value: object, loc: Location) -> Any:
        return read_section(self.kind, value, loc)


def read_section(kind: type[Any], value: object, loc: Location = ()) -> Any:
    """A table as the dataclass `kind`: unknown keys refused (with a "did you mean"), missing
    required keys named, every value read by its field's reader; then the class's own
    `__post_init__` checks, which raise KeyProblem."""
    if not isinstance(value, dict):
        raise KeyProblem(loc, f"input should be a table (got {show(value)})")
    fields = {field.name: field for field in dataclasses.fields(kind)}
    for name in value:
        if name not in fields:
            raise KeyProblem((*loc, name), f"unknown key{_suggestion(name, list(fields))}")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name in value:
            values[name] = field.metadata["read"](value[name], (*loc, name))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise KeyProblem((*loc, name), "required key is missing")
    return kind(**values)


def _suggestion(name: str, known: list[str]) -> str:
    """' (did you mean "x"?)' when a known key is close to the unknown one."""
    close = get_close_matches(name, known, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def sections_of(kind: type[Any]) -> dict[str, type[Any] | None]:
    """Each key of the section `kind`, with the section type it holds (or None for a value):
    what tests use to check that every key is documented."""
    found: dict[str, type[Any] | None] = {}
    for field in dataclasses.fields(kind):
        read = field.metadata["read"]
        read = read.item if isinstance(read, Many) else read
        found[field.name] = read.kind if isinstance(read, Section) else None
    return found
