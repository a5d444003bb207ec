"""Shared fixtures: the fixture feeds, a loopback feed server, config files in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.feed_server import FeedServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A feed server on 127.0.0.1 serving tests/fixtures."""
    with FeedServer(FIXTURES) as server:
        yield server


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a config file into tmp_path; its database lands beside it."""

    def write(text: str, name: str = "config.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
