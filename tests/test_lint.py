"""The one test command runs every check: ruff (lint) and mypy (strict types)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs ruff, mypy and import-linter

ROOT = Path(__file__).parent.parent


def test_ruff_finds_nothing() -> None:
    """ruff check passes on the whole project, banned imports included."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing() -> None:
    """mypy --strict (configured in pyproject.toml) passes."""
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(command), "--no-cache"], cwd=root,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(root)})


def test_import_contracts_hold() -> None:
    """The layering and the platform and database boundaries in pyproject.toml are kept."""
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("bot/store/articles.py", "from bot.enrich import tags", "Layers"),
    ("bot/feeds/poll.py", "import sqlite3", "Only bot.store talks to the database"),
    ("bot/chat/commands.py", "import discord", "Only bot.chat.discord imports discord.py"),
    ("bot/chat/render.py", "from bot.chat.telegram import render",
     "Platform-neutral chat code imports no platform package"),
])
def test_import_contracts_fail_on_a_violation(tmp_path: Path, module: str, line: str,
                                              contract: str) -> None:
    """A copy of the project with one forbidden import breaks the contract that names it."""
    shutil.copytree(ROOT / "bot", tmp_path / "bot")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(f"{line}  # noqa\n{target.read_text(encoding='utf-8')}", encoding="utf-8")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert f"{contract}" in done.stdout and "BROKEN" in done.stdout, done.stdout
