"""A wrong PASSAGE_REDIS_URL is one clear line that does not show its password."""

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
