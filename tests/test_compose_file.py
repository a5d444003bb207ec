"""compose.yaml without a container engine: PostgreSQL with a healthcheck and a volume, three
bot processes from the Dockerfile pointed at it, and no password in the file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent.parent
TEXT = (ROOT / "compose.yaml").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(TEXT)


def test_postgres_has_a_healthcheck_and_a_volume() -> None:
    """The database service is the official image, checked by pg_isready, data in a volume."""
    db = COMPOSE["services"]["postgres"]
    assert db["image"].startswith(("postgres:", "pgvector/pgvector:"))
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"]


def test_three_bot_processes_wait_for_a_healthy_database() -> None:
    """The bot is built from the repo's Dockerfile, three replicas, started once PostgreSQL
    is healthy, with the config mounted where the image's CMD reads it."""
    bot = COMPOSE["services"]["newsbot"]
    assert bot["build"] == "." and (ROOT / "Dockerfile").is_file()
    assert bot["deploy"]["replicas"] == 3
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert any(v.split(":")[1] == "/data/config.toml" for v in bot["volumes"])


def test_no_password_in_the_file() -> None:
    """Passwords come from the environment (.env): the file only names variables."""
    db = COMPOSE["services"]["postgres"]["environment"]
    bot = COMPOSE["services"]["newsbot"]["environment"]
    for value in (db["POSTGRES_PASSWORD"], bot["NEWSBOT_DATABASE_PASSWORD"]):
        assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", value)
    assert not re.search(r"postgres(ql)?://[^@\s/]*:[^@\s/]*@", TEXT)  # user:password@host
