"""Every CLI subcommand, as a real process, against hostile arguments: one line, no traceback.

Each case names the command line, the exit status (2 for usage and config errors, 1 for a
failure) and a fragment of the one error line. Placeholders in the arguments: {config} a
valid config whose database exists, {nodb} a valid config with no database yet, {dir} a
folder, {missing} a path in a folder that doesn't exist, {text} a file that isn't OPML.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every case starts `newsbot` as a process

# An unknown flag at each level of the parser (every command is in a case below as well).
UNKNOWN_FLAG = [["--bogus", "check"], ["search", "x", "--bogus"],
                ["feeds", "export", "{dir}/out.opml", "--bogus"]]

CASES = [
    *[(["-c", "{config}", *command], 2, "unrecognized arguments: --bogus")
      for command in UNKNOWN_FLAG],
    (["-c", "{missing}", "check"], 2, "no such file"),
    (["-c", "{dir}", "status"], 2, "cannot read: [Errno 21] Is a directory"),
    (["-c", "{text}", "run"], 2, "not valid TOML"),
    (["-c", "{badurl}", "check"], 2, 'feeds[0].url: "ftp://example.org/feed" is not an http(s)'),
    (["-c", "{badnumber}", "digest"], 2, "channels[0].max_items: input should be a valid"),
    (["-c", "{baddb}", "status"], 2, "cannot create its folder"),
    (["-c", "{baddb}", "run"], 2, "cannot create the run lock"),
    (["-c", "{config}", "search"], 2, "the following arguments are required: words"),
    (["-c", "{config}", "related"], 2, "the following arguments are required: URL|WORDS"),
    (["-c", "{config}", "digest", "--channel", "discord:1"], 2, "no channel 'discord:1'"),
    (["-c", "{config}", "related", "https://unknown.example/x"], 1, "no story with that link"),
    (["-c", "{config}", "fetch"], 1, ""),
    (["-c", "{nodb}", "status", "--check"], 1, "unhealthy: no database yet"),
    (["-c", "{config}", "feeds", "import", "{missing}"], 1, "can't read: No such file"),
    (["-c", "{config}", "feeds", "import", "{dir}"], 1, "can't read: Is a directory"),
    (["-c", "{config}", "feeds", "import", "{text}"], 1, "text.opml: "),
    (["-c", "{config}", "feeds", "export", "{missing}"], 1, "can't write: No such file"),
    (["-c", "{config}", "feeds", "export", "{dir}"], 1, "can't write: Is a directory"),
    (["-c", "{config}", "feeds", "import", "{text}", "--channel", "x"], 2, "no channel 'x'"),
    (["-c", "{config}", "backup", "{dir}"], 1, "is a folder; name the backup file"),
    (["-c", "{config}", "backup", "/proc/x.db"], 1, "/proc/x.db: can't write the backup"),
    (["-c", "{config}", "backup", "{text}"], 1, "not a database: refusing to overwrite it"),
    (["-c", "{nodb}", "backup", "{dir}/b.db"], 2, "no database to back up"),
]

# Commands whose reader goes away before they print (`newsbot ... | head` ending early).
CLOSED_STDOUT = [["check"], ["digest"], ["search", "news"], ["status"], ["status", "--json"],
                 ["fetch"], ["feeds", "export", "{dir}/out.opml"]]


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The files the placeholders name; {config}'s database is created once, by `status`."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "folder"
    folder.mkdir()
    channel = '[[channels]]\nid = "console"\n'
    files = {
        "config": '[fetch]\nallow_private_addresses = true\ntimeout = "2s"\n'
                  '[[feeds]]\nurl = "http://127.0.0.1:9/feed"\n' + channel,
        "nodb": '[bot]\ndatabase = "none/news.db"\n' + channel,
        "badurl": '[[feeds]]\nurl = "ftp://example.org/feed"\n',
        "badnumber": '[[channels]]\nid = "console"\nmax_items = "ten"\n',
        "baddb": '[bot]\ndatabase = "/proc/x/news.db"\n' + channel,
        "text": "this is neither TOML nor OPML = [\n",
    }
    named = {"dir": str(folder), "missing": str(root / "no" / "such" / "file.opml")}
    for name, text in files.items():
        path = root / (f"{name}.opml" if name == "text" else f"{name}.toml")
        path.write_text(text, encoding="utf-8")
        named[name] = str(path)
    created = newsbot([arg.format(**named) for arg in ("-c", "{config}", "status")])
    assert created.returncode == 0, created.stderr
    return named


def newsbot(args: list[str], stdout: int = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    """Run `newsbot ARGS...` as a user does, stdin closed, stderr captured."""
    return subprocess.run([sys.executable, "-m", "bot", *args], stdout=stdout,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                          timeout=120, check=False, env={**os.environ, "COLUMNS": "200"})


def error_lines(stderr: str) -> list[str]:
    """stderr without argparse's usage text (its "usage:" line and indented continuations)."""
    return [line for line in stderr.splitlines()
            if line and not line.startswith(("usage:", " "))]


@pytest.mark.parametrize(("args", "status", "fragment"), CASES,
                         ids=[" ".join(case[0][2:]) or "-c" for case in CASES])
def test_hostile_arguments_get_one_line_and_a_status(paths: dict[str, str], args: list[str],
                                                    status: int, fragment: str) -> None:
    """A hostile argument gets at most one error line containing the reason, the documented
    exit status, and never a traceback."""
    done = newsbot([arg.format(**paths) for arg in args])
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == status, done.stderr
    lines = error_lines(done.stderr)
    assert len(lines) <= 1 and fragment in "".join(lines), done.stderr
    assert bool(lines) == bool(fragment), done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
@pytest.mark.parametrize("command", [["check"], ["feeds", "import", "{locked}"]])
def test_unreadable_files_get_one_line(paths: dict[str, str], tmp_path: Path,
                                       command: list[str]) -> None:
    """A config or OPML file that can't be read is one error line, not a traceback."""
    locked = tmp_path / "locked"
    locked.write_text("x", encoding="utf-8")
    locked.chmod(0)
    config = str(locked) if command == ["check"] else paths["config"]
    done = newsbot(["-c", config, *(arg.format(locked=locked) for arg in command)])
    assert "Traceback" not in done.stderr and done.returncode in (1, 2)
    assert len(error_lines(done.stderr)) == 1 and "Permission denied" in done.stderr


@pytest.mark.parametrize("command", CLOSED_STDOUT, ids=" ".join)
def test_closed_stdout_ends_quietly(paths: dict[str, str], command: list[str]) -> None:
    """When stdout's reader is gone (`| head` exited), the command exits 1 without a word."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = newsbot(["-c", paths["config"], *(arg.format(**paths) for arg in command)],
                       stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr.strip()) == (1, "")
