"""One trained model, one Passage (one Rasa agent) and one sample directory per test session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.logging_setup import configure_logging

configure_logging()

from bot.settings import PROJECT_ROOT, Settings  # noqa: E402

pytest_plugins = ["pytester"]  # tests of the test fixtures themselves

SAMPLE_DIRECTORY = PROJECT_ROOT / "services_directory" / "sample" / "services.json"


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model `make test` trained (with its recorded hash); trained here once when missing."""
    from bot.training import hash_file_of, train_model

    configured = Path(os.environ.get("PASSAGE_MODEL") or PROJECT_ROOT / "var/models/passage.tar.gz")
    if configured.is_file() and hash_file_of(configured).is_file():
        return configured

    return train_model(tmp_path_factory.mktemp("model") / "passage.tar.gz")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Settings:
    home = tmp_path_factory.mktemp("passage-home")
    return Settings.from_env({"PASSAGE_HOME": str(home), "PASSAGE_MODEL": str(model_path)})


@pytest.fixture(scope="session")
def database(settings: Settings):  # noqa: ANN201 - an SQLAlchemy Engine
    """The session's database, keys installed, with the sample directory imported."""
    from bot.bootstrap import open_storage
    from encryption import create_key_file
    from services_directory.importer import import_path

    create_key_file(settings.key_file)
    engine = open_storage(settings)
    assert import_path(engine, SAMPLE_DIRECTORY).imported
    return engine


@pytest.fixture(scope="session")
def passage(settings: Settings, database):  # noqa: ANN001, ANN201 - bot.conversation.Passage
    from bot.bootstrap import build_passage

    return build_passage(settings)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis (tests/backends/availability.py): skipped when it does not answer, failed
    instead on CI and with PASSAGE_REQUIRE_BACKENDS=1. Use keys no other test uses."""
    from tests.backends.availability import REDIS_URL, missing_backend, redis_missing

    if why := redis_missing():
        missing_backend(why)
    return REDIS_URL


@pytest.fixture
def fresh_chat_id() -> Iterator[int]:
    """A chat id no other test used, so every test starts a new conversation."""
    fresh_chat_id.counter = getattr(fresh_chat_id, "counter", 1000) + 1  # type: ignore[attr-defined]
    yield fresh_chat_id.counter  # type: ignore[attr-defined]


@pytest.fixture
async def fake_telegram() -> AsyncIterator:
    """The fake Bot API. The bot swallows most errors Telegram returns, so a call Telegram would
    refuse fails the test here, at teardown, unless the test declared it with
    ``fake_telegram.expect_rejections(...)`` (or caused it with ``fail_next``)."""
    from tests.fake_bot_api import FakeBotAPI

    async with FakeBotAPI() as fake:
        yield fake
    if undeclared := fake.undeclared_rejections():
        pytest.fail("the fake Telegram rejected calls this test did not declare "
                    "(fake_telegram.expect_rejections(...) if they are meant):\n"
                    + "\n".join(f"  {call}" for call in undeclared), pytrace=False)


@pytest.fixture
async def bot(fake_telegram, passage) -> AsyncIterator:
    """`passage run` in this process: PTB long-polling the fake, the desk's rounds running."""
    from bot.telegram_app import ALLOWED_UPDATES, build_application, start_desk, stop_desk

    application = build_application(passage, fake_telegram.token, fake_telegram.base_url)
    await application.initialize()
    await application.start()
    await start_desk(application)
    await application.updater.start_polling(
        poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    yield application
    await application.updater.stop()
    await stop_desk(application)
    await application.stop()
    await application.shutdown()


@pytest.fixture
def clean_desk(database):  # noqa: ANN001, ANN201 - the session's Engine, with an empty desk
    return empty_desk(database)


def empty_desk(engine):  # noqa: ANN001, ANN201 - an SQLAlchemy Engine, returned
    """No caseworkers, cases or messages waiting to be sent (another test's are not ours)."""
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from bot.desk.models import Case, CaseEvent, CaseMessage, Caseworker, Notice, Outbox

    with Session(engine) as session, session.begin():
        for table in (Notice, Outbox, CaseMessage, CaseEvent, Case, Caseworker):
            session.execute(delete(table))
    return engine


def pytest_report_header() -> str:
    from tests.backends.availability import header

    return header()


CATALOGUE = "catalogue"
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{CATALOGUE}: one message or catalogue in one language "
                                       "(counted apart from the behaviour tests)")


def tests_and_checks(stats: dict[str, list]) -> str | None:
    """'behaviour tests: ...; catalogue checks: ...', from the terminal reporter's stats."""
    counts: dict[bool, dict[str, int]] = {False: {}, True: {}}
    for outcome in OUTCOMES:
        for report in stats.get(outcome, []):
            if getattr(report, "when", "call") == "call" or outcome in ("error", "skipped"):
                kind = counts[CATALOGUE in getattr(report, "keywords", {})]
                kind[outcome] = kind.get(outcome, 0) + 1
    if not counts[True]:
        return None
    return "; ".join(f"{name}: " + (", ".join(f"{n} {o}" for o, n in counts[kind].items())
                                    or "none")
                     for name, kind in (("behaviour tests", False), ("catalogue checks", True)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Said even with -q: how many behaviour tests and catalogue checks ran, and which backends
    the tests ran on (tests/backends/availability.py). pytest's own last line stays last."""
    from tests.backends.availability import summary

    for line in (tests_and_checks(terminalreporter.stats), summary(terminalreporter.stats)):
        if line:
            terminalreporter.write_line(line)


@pytest.fixture
def desk(fake_telegram, bot, clean_desk):  # noqa: ANN001, ANN201 - tests.desk.conftest.Desk
    """The people of a desk test: caseworkers, survivors, on the running bot, an empty desk."""
    from tests.desk.conftest import Desk

    return Desk(fake_telegram, clean_desk)
