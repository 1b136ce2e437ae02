"""Updates of different chats run at once; one chat's updates run one after another, in order."""

import asyncio
from types import SimpleNamespace

from bot.update_order import PerChatOrder


def update(chat: int) -> SimpleNamespace:
    return SimpleNamespace(effective_chat=SimpleNamespace(id=chat))


async def test_one_chat_in_order_other_chats_not_held_up():
    processor = PerChatOrder(8)
    done: list[str] = []

    async def work(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)

    await asyncio.gather(
        processor.process_update(update(1), work("a1", 0.06)),  # slow first message of chat 1
        processor.process_update(update(1), work("a2", 0.0)),
        processor.process_update(update(2), work("b1", 0.01)),
        processor.process_update(update(1), work("a3", 0.0)),
    )
    assert [n for n in done if n.startswith("a")] == ["a1", "a2", "a3"]
    assert done.index("b1") < done.index("a1")  # chat 2 did not wait for chat 1
    assert processor._locks == {}  # nothing kept once a chat is quiet
