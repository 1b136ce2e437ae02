"""A missing PostgreSQL or Redis skips the backend tests on a laptop, but fails them on CI
(CI=true) and with PASSAGE_REQUIRE_BACKENDS=1: a green CI run has run every backend test.

Each case runs pytest on one backend test file in a child process, with that backend's URL
pointing at a port where nothing listens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT

REDIS_TESTS = "tests/backends/test_redis_rate_limit.py"
POSTGRES_TESTS = "tests/backends/test_postgres.py"


def closed_port() -> int:
    """A local port nobody listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_backend_tests(path: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "PASSAGE_REQUIRE_BACKENDS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           path], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          env={**clean, **env})


@pytest.mark.parametrize("required", [{"CI": "true"}, {"PASSAGE_REQUIRE_BACKENDS": "1"}])
def test_a_missing_redis_fails_the_run_where_backends_are_required(required):
    done = run_backend_tests(
        REDIS_TESTS, PASSAGE_TEST_REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0", **required)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "Redis not reachable" in done.stdout and "required because" in done.stdout
    assert "skipped" not in done.stdout.splitlines()[-1]


def test_a_missing_postgresql_fails_the_run_where_backends_are_required():
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/test"
    done = run_backend_tests(POSTGRES_TESTS, PASSAGE_TEST_POSTGRES_URL=url,
                             PASSAGE_REQUIRE_BACKENDS="1")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "PostgreSQL not reachable" in done.stdout
    assert "skipped" not in done.stdout.splitlines()[-1]


def test_elsewhere_a_missing_backend_is_a_skip_that_says_why():
    done = run_backend_tests(
        REDIS_TESTS, PASSAGE_TEST_REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "SKIPPED" in done.stdout and "Redis not reachable" in done.stdout
