"""What several workers leave in Redis to drop an update Telegram delivers twice does not let
someone who reads Redis confirm a guess of what a person wrote."""

from __future__ import annotations

import hashlib
import json
import secrets
from types import SimpleNamespace

import pytest
import redis.asyncio

from bot.update_order import RedisChatOrder, seen_key_for

MESSAGE = {"update_id": 41, "message": {"message_id": 9, "chat": {"id": 77, "type": "private"},
                                        "text": "I escaped from the farm on Route 9"}}


def update(content: dict) -> SimpleNamespace:
    return SimpleNamespace(effective_chat=SimpleNamespace(id=content["message"]["chat"]["id"]),
                           update_id=content["update_id"], to_json=lambda: json.dumps(content))


def guesses(content: dict) -> set[str]:
    """What an attacker who guessed the whole update would compute with no key."""
    text = json.dumps(content).encode()
    return {hashlib.blake2b(text, digest_size=8).hexdigest(), hashlib.sha256(text).hexdigest(),
            hashlib.sha256(text).hexdigest()[:16], hashlib.md5(text).hexdigest()}  # noqa: S324


@pytest.fixture
async def client(redis_url: str):
    connection = redis.asyncio.Redis.from_url(redis_url)
    yield connection
    await connection.close()


async def _keys_after_joining(client, token: str) -> list[str]:  # noqa: ANN001 - a Redis client
    prefix = f"passage:test{secrets.token_hex(4)}:order:"
    order = RedisChatOrder(client, lambda chat: f"chat{chat}", seen_key=seen_key_for(token),
                           prefix=prefix, lifetime=5)
    assert await order.join(update(MESSAGE))
    assert not await order.join(update(MESSAGE))  # the same delivery again: dropped
    keys = [key.decode() for key in await client.keys(f"{prefix}*")]
    await client.delete(*keys)
    return [key.removeprefix(prefix) for key in keys]


async def test_a_guessed_update_cannot_be_confirmed_from_redis(client):
    keys = await _keys_after_joining(client, "123:bot-token")
    [seen] = [key for key in keys if key.startswith("seen:")]
    assert not any(guess in seen for guess in guesses(MESSAGE))
    # The hash depends on a secret of the bot's: another token, another key in Redis.
    [other] = [k for k in await _keys_after_joining(client, "123:other") if k.startswith("seen:")]
    assert seen != other
