"""A wrong PASSAGE_REDIS_URL is one clear line that does not show its password, and printed
settings show no secret."""

from __future__ import annotations

import pytest

from bot.engine.lock_store import redis_lock_store
from bot.errors import UsageError

PASSWORD = "hunter2-Secret"


@pytest.mark.parametrize("url, shown", [
    (f"redis://:{PASSWORD}@redis.internal:notaport/0", "redis://***@redis.internal:notaport/0"),
    (f"redis://worker:{PASSWORD}@redis.internal:6379/db", "redis://***@redis.internal:6379/db"),
    (f"http://worker:{PASSWORD}@redis.internal:6379", "http://***@redis.internal:6379"),
    (f"redis://worker:{PASSWORD}/x@y@redis.internal:x", "redis://***@redis.internal:x"),
    (f"{PASSWORD}@redis.internal", "***@redis.internal"),
    (f"redis://{PASSWORD}@", "redis://***@"),
])
def test_a_malformed_redis_url_is_shown_without_its_password(url: str, shown: str):
    with pytest.raises(UsageError) as raised:
        redis_lock_store(url)
    message = str(raised.value)
    assert PASSWORD not in message
    assert repr(shown) in message


def test_printed_settings_show_no_secret(tmp_path):
    from bot.settings import Settings

    settings = Settings.from_env({
        "PASSAGE_HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": f"123:{PASSWORD}-token",
        "PASSAGE_REDIS_URL": f"redis://:{PASSWORD}-redis@localhost:6379/0",
        "PASSAGE_DATABASE_URL": f"postgresql+psycopg2://passage:{PASSWORD}-db@db/passage",
        "PASSAGE_SAFE_WORD": f"{PASSWORD}-word"})
    assert settings.telegram_token and settings.safe_word  # read, only not shown
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
