"""What the actions need from outside: the directory database.

In the bot process it is configured once at start-up; on a standalone action server it is
created from the same environment variables on first use.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

_directory_engine: Engine | None = None


def configure(directory_engine: Engine) -> None:
    global _directory_engine
    _directory_engine = directory_engine


def directory_engine() -> Engine:
    global _directory_engine
    if _directory_engine is None:  # a standalone `rasa run actions`: the keys are needed too
        from bot.bootstrap import open_storage
        from bot.settings import Settings

        _directory_engine = open_storage(Settings.from_env())
    return _directory_engine
