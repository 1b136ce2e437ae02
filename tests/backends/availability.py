"""Which databases the tests can reach besides SQLite, and a line that says which ones ran.

The whole suite runs on SQLite. tests/backends/ runs the storage, desk and conversation checks
again on PostgreSQL and Redis when they answer: PASSAGE_TEST_POSTGRES_URL and
PASSAGE_TEST_REDIS_URL (the defaults are this machine's and CI's; set one empty to skip it).

On CI (CI=true) and whenever PASSAGE_REQUIRE_BACKENDS=1, a backend that does not answer fails
every test that needs it instead of skipping it: a green run there has run them all.
"""

from __future__ import annotations

import functools
import os
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("PASSAGE_TEST_POSTGRES_URL",
                              "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PASSAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKEND_TESTS = "tests/backends/"


def backends_required() -> str | None:
    """Why a missing backend is a failure here (None: it is a skip)."""
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        return "CI is set"
    if os.environ.get("PASSAGE_REQUIRE_BACKENDS", "").strip() == "1":
        return "PASSAGE_REQUIRE_BACKENDS=1"
    return None


def missing_backend(why: str) -> NoReturn:
    """Skip the test that needs this backend, or fail it where backends are required."""
    if because := backends_required():
        pytest.fail(f"{why} -- required because {because}", pytrace=False)
    pytest.skip(why)


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}{parts.path}"


@functools.cache
def postgres_missing() -> str | None:
    """None when PostgreSQL answers; else why not, in a few words."""
    if not POSTGRES_URL:
        return "PASSAGE_TEST_POSTGRES_URL is empty"
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means: not reachable
        return f"PostgreSQL not reachable at {_where(POSTGRES_URL)} ({type(error).__name__})"
    finally:
        engine.dispose()
    return None


@functools.cache
def redis_missing() -> str | None:
    if not REDIS_URL:
        return "PASSAGE_TEST_REDIS_URL is empty"
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis not reachable at {_where(REDIS_URL)} ({type(error).__name__})"
    return None


def header() -> str:
    found = [f"PostgreSQL {_where(POSTGRES_URL)}" if not postgres_missing() else None,
             f"Redis {_where(REDIS_URL)}" if not redis_missing() else None]
    missing = [why for why in (postgres_missing(), redis_missing()) if why]
    because = backends_required()
    verdict = f"FAILING (required because {because})" if because else "skipped"
    return ("backends: SQLite (every test); also for tests/backends: "
            + (", ".join(f for f in found if f) or "nothing else")
            + (f" -- {verdict}: {'; '.join(missing)}" if missing else ""))


def summary(stats: dict[str, list]) -> str | None:
    """What tests/backends did, from the terminal reporter's stats; None when not collected."""
    counts = {outcome: sum(1 for report in reports
                           if getattr(report, "nodeid", "").startswith(BACKEND_TESTS)
                           and getattr(report, "when", "call") in ("call", "setup"))
              for outcome, reports in stats.items() if outcome in ("passed", "failed",
                                                                    "skipped", "error")}
    if not any(counts.values()):
        return None
    ran = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
    why = "; ".join(w for w in (postgres_missing(), redis_missing()) if w)
    return ("backends: SQLite ran every test; PostgreSQL + Redis (tests/backends): " + ran
            + (f" -- {why}" if why else ""))
