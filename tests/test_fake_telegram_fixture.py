"""The fake_telegram fixture: the bot swallows most errors Telegram returns, so a call the fake
rejected fails the test at teardown, unless the test declared it or injected it."""

from __future__ import annotations

import os

import pytest

from bot.settings import PROJECT_ROOT

STRICT_FIXTURE_TESTS = """
import pytest
from telegram import Bot
from telegram.error import Forbidden


async def write_first(fake, user=None):
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        with pytest.raises(Forbidden):
            await bot.send_message((user or fake.new_user()).id, "hello?")


async def test_undeclared(fake_telegram):
    await write_first(fake_telegram)


async def test_declared(fake_telegram):
    fake_telegram.expect_rejections("sendMessage: Forbidden: bot can't initiate")
    await write_first(fake_telegram)


async def test_declared_something_else(fake_telegram):
    fake_telegram.expect_rejections("editMessageText: .*not modified")
    await write_first(fake_telegram)


async def test_injected_by_fail_next(fake_telegram):
    user = fake_telegram.new_user()
    await fake_telegram.send_text(user, "hi")
    fake_telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await write_first(fake_telegram, user)
"""


async def test_fake_telegram_fails_a_test_whose_calls_were_rejected_unless_declared(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    pytester.makeconftest("from tests.conftest import fake_telegram  # noqa: F401\n")
    pytester.makepyfile(STRICT_FIXTURE_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=2)
    errors = [line for line in result.outlines if line.startswith("ERROR ")]
    assert [line.split("::")[1].split()[0] for line in errors] == [
        "test_undeclared", "test_declared_something_else"]
    result.stdout.fnmatch_lines([
        "*the fake Telegram rejected calls this test did not declare*",
        "*sendMessage: Forbidden: bot can't initiate conversation with a user*"])
