"""The real commands, as operators run them: `passage run` against a Bot API server given by
TELEGRAM_API_BASE_URL, and `passage chat` in a terminal."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from encryption import create_key_file
from tests.e2e.expectations import MADRID, nearest_service_name

PASSAGE = str(Path(sys.executable).with_name("passage"))
STARTUP_SECONDS = 120  # TensorFlow and the model load once per process


def _env(settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "PASSAGE_HOME": str(settings.home),
            "PASSAGE_MODEL": str(settings.model_path), **extra}


async def test_passage_run_serves_the_bot_api_server_it_is_pointed_at(
        fake_telegram, passage, settings):
    process = await asyncio.create_subprocess_exec(
        PASSAGE, "run", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=_env(settings, TELEGRAM_BOT_TOKEN=fake_telegram.token,
                 TELEGRAM_API_BASE_URL=fake_telegram.base_url))
    try:
        user = fake_telegram.new_user(language_code="es")
        await fake_telegram.send_text(user, "/start")
        [welcome] = await fake_telegram.wait_for_bot_messages(user, timeout=STARTUP_SECONDS)
        assert "no una persona" in welcome["text"]
        await fake_telegram.send_text(user, "necesito un lugar seguro para dormir")
        await fake_telegram.wait_for_bot_messages(user)
        await fake_telegram.share_location(user, *MADRID)
        [results] = await fake_telegram.wait_for_bot_messages(user)
        assert nearest_service_name("shelter", *MADRID) in results["text"]
        assert fake_telegram.rejected == []
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    log = output.decode()
    assert process.returncode == 0, log
    token_secret = fake_telegram.token.split(":")[1]
    for secret in ("lugar seguro", str(user.id), "40.4168", token_secret):
        assert secret not in log, f"{secret!r} reached the log"


def test_passage_chat_runs_the_journey_in_a_terminal(passage, settings):
    lines = "necesito un lugar seguro para dormir\n/location 40.4168,-3.7038\n/quit\n"
    done = subprocess.run(
        [PASSAGE, "chat", "--language", "es"], input=lines, capture_output=True, text=True,
        env=_env(settings), timeout=STARTUP_SECONDS)
    assert done.returncode == 0, done.stderr
    assert "[1] 🆘" in done.stdout  # the menu, as numbered choices
    assert "¿Dónde estás?" in done.stdout
    assert nearest_service_name("shelter", *MADRID) in done.stdout


@pytest.mark.parametrize(("variable", "expected"), [
    ("PASSAGE_MODEL", "passage: no trained model at {path} (train one with `passage train`)"),
    ("PASSAGE_KEY_FILE",
     "passage: key file not found: {path} (create one with `passage keys init`)"),
])
def test_a_missing_file_is_one_clear_line(settings, tmp_path, variable, expected):
    create_key_file(settings.key_file)
    missing = tmp_path / "missing"
    done = subprocess.run(
        [PASSAGE, "chat"], input="", capture_output=True, text=True, timeout=STARTUP_SECONDS,
        env=_env(settings, **{variable: str(missing)}))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [expected.format(path=missing)]


def test_passage_understand_answers_one_line_per_line(settings):
    lines = "\n".join([
        json.dumps({"text": "no tengo dónde dormir esta noche"}),
        json.dumps({"text": "they locked me in the room, help", "language": "en"}),
        "not json",
        json.dumps({"text": "ok", "language": "fr"}),
    ]) + "\n"
    done = subprocess.run([PASSAGE, "understand", "--jsonl", "-"], input=lines,
                          capture_output=True, text=True, env=_env(settings),
                          timeout=STARTUP_SECONDS)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(a["intent"], a["need"], a["language"]) for a in answers] == [
        ("find_service", "shelter", "es"), ("emergency", None, "en"), ("affirm", None, "fr")]
    assert all(set(a) == {"text", "language", "intent", "need", "confidence"} for a in answers)
    assert "line 3" in done.stderr
