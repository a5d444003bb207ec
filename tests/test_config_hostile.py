"""Hostile config files: whatever a file holds, loading it ends in one ConfigError line that
names the file, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import MAX_CONFIG_BYTES, ConfigError, load_config

HOSTILE = [
    ("x = " + "[" * 100_000 + "]" * 100_000, "arrays or tables nested too deeply"),
    ("x = " + "{a = " * 50_000 + "1" + "}" * 50_000, "arrays or tables nested too deeply"),
    ("[bot]\nlog_level = " + "[" * 500 + "]" * 500, "arrays or tables nested too deeply"),
    ("a" + ".a" * 100_000 + " = 1", "a dotted key of more than 32 parts"),
    ('["x"' + '."x"' * 1000 + "]", "a dotted key of more than 32 parts"),
    ("[fetch]\ninterval = " + "9" * 5000, "a number with too many digits"),
    ("[fetch]\ninterval = " + "9" * 4000, "fetch.interval: \"9999"),
    ('[fetch]\ninterval = "' + "9" * 5000 + 'd"', "is not a duration"),
    ('[bot]\nretention = "3651d"', "is longer than 3650 days"),
    ("[fetch]\ninterval = 1e999999", '"inf" is not a duration'),
    ('[bot]\nlog_level = "a\x00b"', "not valid TOML: Illegal character '\\x00'"),
    ("[bot]\x00", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_hostile_toml_is_one_error_line(write_config: Callable[[str], Path], text: str,
                                        message: str) -> None:
    """Deep nesting, deep dotted keys, numbers of thousands of digits, absurd durations and
    NUL bytes each end in one short line naming the file and the problem."""
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    line = str(caught.value)
    assert line.startswith(f"{path}: ") and message in line
    assert "\n" not in line and len(line) < 300


def test_invalid_utf8_is_one_error_line(tmp_path: Path) -> None:
    """A file that isn't UTF-8 says so, with the offending byte's position."""
    path = tmp_path / "config.toml"
    path.write_bytes(b'[bot]\nlog_level = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match=r"config.toml: not UTF-8 text \(byte 19\)"):
        load_config(path, environ={})


def test_huge_file_is_refused_unread(tmp_path: Path) -> None:
    """A file over the size cap is refused after reading only one byte more than the cap."""
    path = tmp_path / "config.toml"
    with path.open("wb") as file:
        file.truncate(100 * 1024 * 1024)  # 100 MB, sparse: no disk used
    with pytest.raises(ConfigError, match=f"larger than {MAX_CONFIG_BYTES // 1024} KiB"):
        load_config(path, environ={})


@pytest.mark.slow
def test_cli_reports_deep_nesting_in_one_line(write_config: Callable[[str], Path]) -> None:
    """`newsbot check` on a deeply nested file prints one line and exits 2, no traceback."""
    path = write_config("x = " + "[" * 100_000 + "]" * 100_000)
    done = subprocess.run([sys.executable, "-m", "bot", "-c", str(path), "check"],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=dict(os.environ))
    assert done.returncode == 2
    assert done.stderr == f"newsbot: {path}: not valid TOML: arrays or tables nested too deeply\n"
    assert done.stdout == ""
