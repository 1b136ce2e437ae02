"""What a person writes never reaches the log at any level: not through python-telegram-bot,
Rasa, SQLAlchemy or a traceback."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.storage import make_engine
from tests.test_unreadable_updates import whole_log  # noqa: F401 - a fixture


async def test_a_conversation_at_debug_leaves_nothing_of_it_in_the_log(fake_telegram, bot,
                                                                     capsys, whole_log):  # noqa: F811
    marker = f"MARKER{uuid.uuid4().hex}"
    person = fake_telegram.new_user(first_name=f"{marker}name", language_code="en",
                                    username=f"{marker}user")
    await fake_telegram.send_text(person, f"I need a place to sleep in {marker}")
    await fake_telegram.wait_for_bot_messages(person, timeout=30)
    printed = capsys.readouterr()
    log = whole_log.getvalue()
    assert "Calling Bot API endpoint" in log  # PTB's DEBUG lines are there, cut down
    assert marker not in log + printed.out + printed.err


@pytest.mark.parametrize("logger_name", ["telegram.ext.Updater", "telegram.Bot",
                                         "rasa.core.processor", "sqlalchemy.engine.Engine",
                                         "tornado.application"])
@pytest.mark.parametrize("level", [logging.DEBUG, logging.WARNING, logging.CRITICAL])
def test_library_records_carry_no_arguments_no_text_and_no_traceback(
        logger_name: str, level: int, whole_log):  # noqa: F811
    marker = f"MARKER{uuid.uuid4().hex}"
    logger = logging.getLogger(logger_name)
    try:
        raise ValueError(f"bad field in {{'text': '{marker}'}}")
    except ValueError as error:
        logger.log(level, "Received data was %r", {"text": marker}, exc_info=error)
        logger.log(level, "%(update)s", {"update": marker})
    log = whole_log.getvalue()
    assert marker not in log
    assert "(ValueError)" in log


@pytest.mark.parametrize("logger_name", ["rasa.core.processor", "rasa_sdk.executor"])
def test_rasa_lines_below_warning_are_hidden_whole(logger_name: str, whole_log):  # noqa: F811
    """Rasa writes what someone said into its debug lines (f-strings, no arguments to hide)."""
    marker = f"MARKER{uuid.uuid4().hex}"
    for level in (logging.DEBUG, logging.INFO):
        logging.getLogger(logger_name).log(level, f"Received user message '{marker}'")
    log = whole_log.getvalue()
    assert marker not in log
    assert log.count("line hidden") == 2


def test_sqlalchemy_errors_do_not_carry_bound_parameters(tmp_path):
    marker = f"MARKER{uuid.uuid4().hex}"
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(SQLAlchemyError) as raised, engine.connect() as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (:said)"), {"said": marker})
    assert marker not in str(raised.value)
