"""The Dockerfile without a container engine: real CLI commands, packages as pyproject says."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from bot.__main__ import build_parser

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instruction(name: str) -> str:
    """The text of one instruction, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    [line] = [line for line in joined.splitlines() if line.startswith(name + " ")]
    return line[len(name) + 1:].strip()


def exec_form(text: str) -> list[str]:
    """A JSON exec-form command (`["newsbot", ...]`) as its argument list."""
    words = json.loads(text)
    assert isinstance(words, list) and words[0] == "newsbot", text
    return [str(word) for word in words]


def test_cmd_is_a_real_cli_command() -> None:
    """CMD runs `newsbot run` with the config in the /data volume."""
    args = build_parser().parse_args(exec_form(instruction("CMD"))[1:])
    assert args.command == "run" and args.config == "/data/config.toml"


def test_healthcheck_is_status_check() -> None:
    """HEALTHCHECK runs `newsbot status --check` against the same config."""
    options, _, command = instruction("HEALTHCHECK").partition("CMD ")
    args = build_parser().parse_args(exec_form(command)[1:])
    assert args.command == "status" and args.check and args.config == "/data/config.toml"
    assert "--interval=" in options


def test_runs_as_a_non_root_user_with_a_data_volume() -> None:
    """USER is not root and /data is a volume owned by that user."""
    assert instruction("USER") not in ("root", "0")
    assert json.loads(instruction("VOLUME")) == ["/data"]
    assert f"chown {instruction('USER')} /data" in DOCKERFILE


def test_installed_packages_match_pyproject() -> None:
    """The image installs from uv.lock (frozen, no dev tools), and the lock lists exactly
    the dependencies of pyproject.toml."""
    syncs = re.findall(r"uv sync ([^\n&]*)", DOCKERFILE)
    assert syncs and all("--frozen" in s and "--no-dev" in s for s in syncs)
    assert re.search(r"COPY pyproject\.toml uv\.lock", DOCKERFILE)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    [root] = [p for p in lock["package"] if p["name"] == project["project"]["name"]]
    wanted = {_name(spec) for spec in project["project"]["dependencies"]}
    locked = {_name(dep["name"]) for dep in root["dependencies"]}
    assert locked == wanted


def _name(spec: str) -> str:
    """A requirement's normalized distribution name (`discord.py>=2.4` -> `discord-py`)."""
    name = re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()
