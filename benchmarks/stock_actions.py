"""Passage's custom actions for a stock `rasa run actions --actions benchmarks.stock_actions`.

`bot.actions.runtime` opens the directory's database from the environment on first use, but
the encrypted directory also needs the keys installed in the process (`encryption.install`),
which only `bot.bootstrap.open_storage` does. `rasa run actions --actions bot.actions` therefore
fails on the first search ("encryption keys are not loaded"). Importing this module opens the
storage the way the bot does, then imports the very same action classes; rasa_sdk registers
every `Action` subclass that has been imported.
"""

from __future__ import annotations

from bot.actions import runtime
from bot.bootstrap import open_storage
from bot.settings import Settings

runtime.configure(open_storage(Settings.from_env()))

from bot.actions import search_actions  # noqa: E402,F401 - registers the actions
