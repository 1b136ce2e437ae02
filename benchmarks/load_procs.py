"""Processes for the load benchmark: a throwaway PASSAGE_HOME, `passage run`, a stock Rasa
server with its action server, and what /proc says about their CPU time and memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLE = ROOT / "services_directory" / "sample" / "services.json"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def passage_home(model: Path, database_url: str | None = None) -> dict[str, str]:
    """A fresh home with a key file and the sample directory; the environment that uses it.
    database_url: PASSAGE_DATABASE_URL (an empty database); SQLite in the home otherwise."""
    home = Path(tempfile.mkdtemp(prefix="passage-load-"))
    env = {**os.environ, "PASSAGE_HOME": str(home), "PASSAGE_MODEL": str(model),
           "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    if database_url:
        env["PASSAGE_DATABASE_URL"] = database_url
    for command in (["keys", "init"], ["directory", "import", str(SAMPLE)]):
        subprocess.run([str(BIN / "passage"), *command], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return env


@contextlib.contextmanager
def fresh_postgres_schema(url: str) -> Iterator[str]:
    """A new, empty schema in the PostgreSQL database at `url`, dropped afterwards; yields the
    URL that works in it."""
    from sqlalchemy import create_engine, text

    from tests.backends.conftest import with_search_path

    schema = f"passage_load_{secrets.token_hex(4)}"
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(url, schema)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def postgres_pids() -> list[int]:
    """This machine's PostgreSQL server processes (their CPU is the database's share)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
    return pids


def _tree(pid: int) -> list[int]:
    """The process and its descendants (Rasa may start helpers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their descendants, those that ended
    included (a parent holds the time of the children it reaped: PostgreSQL's connections come
    and go)."""
    total = 0
    for pid in {p for root in pids for p in _tree(root)}:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / TICKS


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """VmHWM: the most resident memory this process has had since it started; VmRSS: now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, command: list[str], env: dict[str, str], nice: int) -> Server:
    log = Path(env["PASSAGE_HOME"]) / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["nice", "-n", str(nice), *command], env=env, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)
    return Server(name, process, log)


def start_passage(env: dict[str, str], token: str, base_url: str, nice: int,
                  workers: int = 0) -> Server:
    """workers 0: one process, long polling; N: `passage run --workers N` (webhook mode; env
    has PASSAGE_WEBHOOK_URL, PASSAGE_LISTEN and PASSAGE_REDIS_URL)."""
    command = [str(BIN / "passage"), "run", *(["--workers", str(workers)] if workers else [])]
    return start("passage", command,
                 {**env, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": base_url}, nice)


def peak_rss_of_workers(pid: int) -> list[float]:
    """VmHWM of each worker under a `passage run --workers N` supervisor."""
    return [rss_mb(child) for child in _tree(pid) if child != pid]


def start_stock(env: dict[str, str], model: Path, nice: int) -> tuple[Server, Server, int]:
    """`rasa run --enable-api` (REST channel) and `rasa run actions` on free ports."""
    rasa_port, actions_port = free_port(), free_port()
    endpoints = Path(env["PASSAGE_HOME"]) / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n')
    credentials = Path(env["PASSAGE_HOME"]) / "credentials.yml"
    credentials.write_text("rest:\n")
    actions = start("rasa-actions", [str(BIN / "rasa"), "run", "actions", "--actions",
                                     "benchmarks.stock_actions", "--port", str(actions_port)],
                    env, nice)
    rasa = start("rasa", [str(BIN / "rasa"), "run", "--enable-api", "--quiet",
                          "--port", str(rasa_port), "-m", str(model),
                          "--endpoints", str(endpoints), "--credentials", str(credentials)],
                 env, nice)
    return rasa, actions, rasa_port


async def wait_http(url: str, servers: list[Server], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            for server in servers:
                server.check_alive()
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


SPY_RATE = 100  # samples a second


def start_py_spy(pid: int, out: Path) -> subprocess.Popen:
    """Sample `pid` and its children (the workers) until SIGINT into collapsed stacks (one line
    per stack: frames count). Only threads holding the GIL are sampled: Python's CPU time, not
    waits."""
    return subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(pid), "--format", "raw",
                             "--rate", str(SPY_RATE), "--output", str(out), "--nonblocking",
                             "--gil", "--subprocesses"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
