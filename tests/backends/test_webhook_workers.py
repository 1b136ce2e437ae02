"""`passage run --workers 3` in webhook mode on PostgreSQL + Redis, behind the fake Bot API.

Many survivors at once, each sending their first three messages in a burst without waiting.
The fake delivers up to 40 updates at a time and, like Telegram, a chat's next update as soon
as the previous one was answered, so one person's messages land on different workers while the
first is still being handled. Every person must get exactly their three replies, in the
order of what they wrote: welcome, "where are you?", the nearest shelter."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.backends.availability import POSTGRES_URL
from tests.backends.conftest import with_search_path
from tests.conftest import empty_desk
from tests.e2e.expectations import nearest_service_name, shown
from tests.e2e.test_commands import PASSAGE
from tests.e2e.test_journey import JOURNEYS
from tests.fake_bot_api import FakeBotAPI

WORKERS = 3
SURVIVORS_PER_LANGUAGE = 3
PUBLIC_URL = "https://passage.example.org"  # what Telegram is told; the "load balancer" below


def _children(pid: int) -> list[int]:
    return [int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process so far, in clock ticks (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def fake() -> FakeBotAPI:
    # A bot of its own: its updates start at 1 again, so its Redis keys must be new too.
    async with FakeBotAPI(token=f"{random.randint(10**8, 10**9)}:WORKERS-TEST") as fake:
        yield fake


async def _wait_for_workers(fake: FakeBotAPI, supervisor: subprocess.Popen, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 180  # three Rasa agents loading at once on two cores
    while sum(c.method == "setWebhook" and c.ok for c in fake.calls) < WORKERS:
        assert supervisor.poll() is None, log.read_text()[-3000:]
        assert loop.time() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.2)


async def test_three_webhook_workers_keep_each_persons_replies_in_order(
        fake, postgres, postgres_schema, redis_url, settings, tmp_path):
    empty_desk(postgres)  # the desk tests' cases and outbox are not this bot's
    port = _free_port()
    fake.route_webhooks(PUBLIC_URL, f"http://127.0.0.1:{port}")
    env = {**os.environ, "PASSAGE_HOME": str(settings.home),
           "PASSAGE_MODEL": str(settings.model_path), "PASSAGE_KEY_FILE": str(settings.key_file),
           "PASSAGE_DATABASE_URL": with_search_path(POSTGRES_URL, postgres_schema),
           "PASSAGE_REDIS_URL": redis_url, "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_BASE_URL": fake.base_url,
           "PASSAGE_WEBHOOK_URL": f"{PUBLIC_URL}/telegram/updates",
           "PASSAGE_LISTEN": f"127.0.0.1:{port}"}
    log = tmp_path / "workers.log"
    with log.open("w") as output:
        supervisor = subprocess.Popen([PASSAGE, "run", "--workers", str(WORKERS)], env=env,
                                      stdout=output, stderr=subprocess.STDOUT)
    try:
        await _wait_for_workers(fake, supervisor, log)
        workers = _children(supervisor.pid)
        assert len(workers) == WORKERS
        busy_before = [_cpu_ticks(w) for w in workers]

        people = [(fake.new_user("Sam", language), language)
                  for language in sorted(JOURNEYS) for _ in range(SURVIVORS_PER_LANGUAGE)]
        random.shuffle(people)
        for user, language in people:  # everyone writes at once, three messages each
            need, where = JOURNEYS[language]
            await fake.send_text(user, "/start")
            await fake.send_text(user, need)
            await fake.share_location(user, *where)

        for user, language in people:
            replies = await fake.wait_for_bot_messages(user, 3, timeout=120)
            texts = [m["text"] for m in replies]
            assert texts[0] == shown("welcome", language), (language, texts)
            assert texts[1] == shown("ask_location", language), (language, texts)
            assert nearest_service_name("shelter", *JOURNEYS[language][1]) in texts[2]
        await asyncio.sleep(2)  # nothing doubled: no fourth reply comes late
        for user, _ in people:
            assert len([m for m in fake.visible_messages(user) if m["from"]["is_bot"]]) == 3
        assert fake.rejected == []
        assert all(d.ok for d in fake.deliveries)  # every update accepted on the first try
        # the kernel spread the connections: every worker did part of the work
        assert all(_cpu_ticks(w) > before + 10  # > 0.1 s each
                   for w, before in zip(workers, busy_before, strict=True))
    finally:
        supervisor.send_signal(signal.SIGTERM)
        await asyncio.to_thread(supervisor.wait, 60)
    assert supervisor.returncode == 0
