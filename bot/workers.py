"""Several bot workers on one machine: `passage run --workers N`.

Each worker is a whole `passage run` in its own process (its own Rasa agent and event loop)
listening on the same PASSAGE_LISTEN address: the socket is opened with SO_REUSEPORT, so the
kernel spreads Telegram's webhook connections over the workers, and N separate `passage run`
processes started any other way (systemd, containers on one host) share the port the same
way. What they must agree on lives in PostgreSQL/SQLite and Redis (bot/update_order.py,
bot/shared_work.py, the lock store), never in one worker's memory.

The supervisor starts the workers, starts again one that dies (after a pause that grows when
it keeps dying) unless it stopped on a configuration mistake (then all stop, with its one
line), and on Ctrl+C or SIGTERM stops them all and waits for them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time

logger = logging.getLogger(__name__)

WORKER_ENV = "PASSAGE_WORKERS"  # how many workers share the bot, as each worker is told
RESTART_PAUSE_SECONDS = (1, 2, 5, 10, 30)
STOP_GRACE_SECONDS = 30
USAGE_ERROR = 2  # what `passage` exits with after a one-line error (bot/cli.py)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket on host:port that other processes may open too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def spread_every_request() -> None:
    """Answer each webhook request on a connection of its own. The kernel spreads connections
    over the workers sharing a port, not requests: a client that keeps a few connections alive
    (Telegram, a proxy) would otherwise keep talking to the same worker. A new local TCP
    connection costs far less than an unbalanced worker."""
    from bot.telegram_updates import guard_webhook_server

    guard_webhook_server(one_request_per_connection=True)


def workers_sharing() -> int:
    """How many workers this one shares the bot with (itself included), as its supervisor said."""
    value = os.environ.get(WORKER_ENV, "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def supervise(count: int) -> int:
    """Run `count` workers until asked to stop; returns the exit status."""
    command = [sys.executable, "-m", "bot.cli", "run"]
    env = {**os.environ, WORKER_ENV: str(count)}
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    workers = [subprocess.Popen(command, env=env) for _ in range(count)]
    deaths = [0] * count
    status = 0
    print(f"Passage is running with {count} workers. Press Ctrl+C to stop.", flush=True)
    while not stopping:
        time.sleep(0.5)
        for index, worker in enumerate(workers):
            if stopping or worker.poll() is None:
                continue
            if worker.returncode == USAGE_ERROR:  # its one line is printed; trying again won't help
                stopping, status = True, USAGE_ERROR
                continue
            pause = RESTART_PAUSE_SECONDS[min(deaths[index], len(RESTART_PAUSE_SECONDS) - 1)]
            deaths[index] += 1
            logger.error("worker %d stopped (exit %s); starting it again in %d s",
                         index + 1, worker.returncode, pause)
            time.sleep(pause)
            workers[index] = subprocess.Popen(command, env=env)
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for worker in workers:
        try:
            worker.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
    return status
