"""How `passage run` is told to serve: long polling, webhook, several workers. A mistake in
the environment or on the command line is one clear line, before anything loads."""

from __future__ import annotations

import pytest

from bot import cli
from bot.errors import UsageError
from bot.settings import Settings

TOKEN = "123456:TEST-TOKEN"


@pytest.mark.parametrize(("listen", "expected"), [
    ("127.0.0.1:8443", ("127.0.0.1", 8443)),
    ("[::1]:9000", ("::1", 9000)),
    (":8080", ("0.0.0.0", 8080)),  # noqa: S104 - every interface, as asked
])
def test_listen_address(listen, expected):
    assert Settings.from_env({"PASSAGE_LISTEN": listen}).listen == expected


@pytest.mark.parametrize("listen", ["8443", "localhost", "host:http", "host:70000"])
def test_a_wrong_listen_address_is_one_line(listen):
    with pytest.raises(UsageError, match="PASSAGE_LISTEN must be host:port"):
        Settings.from_env({"PASSAGE_LISTEN": listen})


def test_every_worker_of_a_bot_derives_the_same_webhook_secret_and_nobody_else_can():
    first = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).webhook_secret
    again = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).webhook_secret
    other = Settings.from_env({"TELEGRAM_BOT_TOKEN": "654321:OTHER"}).webhook_secret
    assert first == again != other
    assert TOKEN.split(":")[1] not in first and 1 <= len(first) <= 256
    chosen = {"TELEGRAM_BOT_TOKEN": TOKEN, "PASSAGE_WEBHOOK_SECRET": "my_Secret-1"}
    assert Settings.from_env(chosen).webhook_secret == "my_Secret-1"
    with pytest.raises(UsageError, match="PASSAGE_WEBHOOK_SECRET"):
        Settings.from_env({**chosen, "PASSAGE_WEBHOOK_SECRET": "no spaces allowed"})


@pytest.mark.parametrize(("argv", "env", "line"), [
    (["run", "--workers", "3"], {},
     "passage: --workers needs webhook mode: set PASSAGE_WEBHOOK_URL (and PASSAGE_LISTEN)"),
    (["run", "--workers", "3"], {"PASSAGE_WEBHOOK_URL": "https://bot.example.org/hook"},
     "passage: several workers share conversations through Redis: set PASSAGE_REDIS_URL"),
])
def test_several_workers_need_webhooks_and_redis(argv, env, line, monkeypatch, capsys,
                                                 tmp_path):
    for name in ("PASSAGE_WEBHOOK_URL", "PASSAGE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"TELEGRAM_BOT_TOKEN": TOKEN, "PASSAGE_HOME": str(tmp_path),
                        **env}.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines() == [line]
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_zero_workers_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--workers", "0"])
    assert exit_.value.code == 2
    assert "--workers: must be a whole number of at least 1, got '0'" in capsys.readouterr().err


def test_send_rate():
    assert Settings.from_env({}).send_rate == 30  # Telegram's limit for one bot
    assert Settings.from_env({"PASSAGE_SEND_RATE": "0"}).send_rate == 0  # a local test server
    with pytest.raises(UsageError, match="PASSAGE_SEND_RATE must be at least 0"):
        Settings.from_env({"PASSAGE_SEND_RATE": "-5"})
    with pytest.raises(UsageError, match="must be a number of messages a second, got 'fast'"):
        Settings.from_env({"PASSAGE_SEND_RATE": "fast"})


async def test_workers_stop_with_one_line_when_telegram_refuses_the_webhook(
        fake_telegram, settings, database, redis_url):
    """A configuration mistake found by a worker is not retried forever by the supervisor."""
    import asyncio
    import subprocess

    from tests.backends.test_webhook_workers import _free_port
    from tests.e2e.test_commands import PASSAGE, STARTUP_SECONDS, _env

    done = await asyncio.to_thread(
        subprocess.run, [PASSAGE, "run", "--workers", "2"], capture_output=True, text=True,
        timeout=STARTUP_SECONDS,
        env=_env(settings, TELEGRAM_BOT_TOKEN=fake_telegram.token,
                 TELEGRAM_API_BASE_URL=fake_telegram.base_url,
                 PASSAGE_WEBHOOK_URL="http://bot.example.org/hook",  # Telegram wants https
                 PASSAGE_LISTEN=f"127.0.0.1:{_free_port()}",
                 PASSAGE_REDIS_URL=redis_url))
    assert done.returncode == 2
    fake_telegram.expect_rejections("setWebhook: Bad Request: bad webhook: an https url")
    lines = [line for line in done.stderr.splitlines() if line.startswith("passage:")]
    assert lines and set(lines) == {
        "passage: Telegram did not accept the webhook http://bot.example.org/hook: "
        "Bad webhook: an https url must be provided for webhook"}
