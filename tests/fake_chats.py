"""The fake Bot API's odd updates: groups the bot was added to, channel posts, edited and
forwarded messages, forged button taps, and updates taken straight from the queue.

A mixin of ``tests.fake_bot_api.FakeBotAPI``. Groups are simulated only as far as Passage
meets them: a message in a group reaches the bot, the bot may leave (``leaveChat``); anything
it sends there is refused ("chat not found"), as nothing in a group may come from Passage.
"""

from __future__ import annotations

import copy
import itertools
from typing import TYPE_CHECKING, Any

from tests.telegram_rules import JSON, ApiError, bad, utf16_len

if TYPE_CHECKING:
    from tests.fake_bot_api import FakeUser

_GROUP_NUMBERS = itertools.count(1)


class OddUpdates:
    """Mixed into FakeBotAPI: uses its ``_chats``, ``_updates``, ``_push_update``..."""

    @property
    def groups(self) -> dict[int, JSON]:
        """Group id -> {"type", "title", "member": is the bot still in it}."""
        return self.__dict__.setdefault("_groups", {})

    def new_group(self, supergroup: bool = False) -> int:
        group_id = (-1_000_000_000_000 if supergroup else -4_000_000_000) - next(_GROUP_NUMBERS)
        self.groups[group_id] = {"type": "supergroup" if supergroup else "group",
                                 "title": "Friends", "member": True}
        return group_id

    def group_message(self, user: FakeUser, group_id: int, text: str) -> JSON:
        group = self.groups[group_id]
        return {"message_id": next(self._ids), "from": user.as_api(), "date": self.now(),
                "chat": {"id": group_id, "type": group["type"], "title": group["title"]},
                "text": text}

    async def send_group_text(self, user: FakeUser, group_id: int, text: str) -> JSON:
        msg = self.group_message(user, group_id, text)
        await self._push_update("message", msg)
        return copy.deepcopy(msg)

    async def post_in_channel(self, text: str) -> JSON:
        post = {"message_id": next(self._ids), "date": self.now(), "text": text,
                "chat": {"id": -1_009_000_000_000 - next(_GROUP_NUMBERS), "type": "channel",
                         "title": "News"}}
        await self._push_update("channel_post", post)
        return copy.deepcopy(post)

    async def edit_text(self, user: FakeUser, message_id: int, text: str) -> JSON:
        """The user edits one of their own messages (an ``edited_message`` update)."""
        msg = self._chat_of(user).messages[message_id]
        assert not msg["from"]["is_bot"], "a user can only edit their own messages"
        msg.update(text=text, edit_date=self.now())
        await self._push_update("edited_message", msg)
        return copy.deepcopy(msg)

    async def forward_text(self, user: FakeUser, text: str, sender_name: str = "Boss") -> JSON:
        """The user forwards someone else's text message into the chat with the bot."""
        origin = {"type": "hidden_user", "sender_user_name": sender_name,
                  "date": self.now() - 3600}
        return await self.send_content(user, text=text, forward_origin=origin)

    async def send_command(self, user: FakeUser, text: str) -> JSON:
        """Like send_text, but the command entity is there even for junk ("/x\u202e…")."""
        msg = self._user_message(user, text=text)
        msg["entities"] = [{"type": "bot_command", "offset": 0,
                            "length": utf16_len(text.split()[0]) if text.split() else 1}]
        await self._push_update("message", msg)
        return copy.deepcopy(msg)

    async def press_forged_button(self, user: FakeUser, data: str,
                                  message_id: int | None = None) -> JSON:
        """A callback with any data, as a modified client could send it, on any message of the
        chat (a stale keyboard, or one the bot never sent)."""
        chat = self._chat_of(user)
        msg = chat.messages.get(message_id) if message_id else None
        msg = msg or next(reversed(chat.messages.values()), None) or self._user_message(
            user, text="hi")
        query_id = str(8_000_000_000_000 + next(self._ids))
        self._callback_queries[query_id] = False
        query = {"id": query_id, "from": user.as_api(), "message": self._api_message(msg),
                 "chat_instance": str(-user.id), "data": data}
        await self._push_update("callback_query", query)
        return copy.deepcopy(query)

    def take_updates(self) -> list[JSON]:
        """Every update not yet delivered, removed from the queue: for a test that hands them
        to ``Application.process_update`` itself instead of polling."""
        updates, self._updates[:] = list(self._updates), []
        return updates

    async def _m_leavechat(self, params: JSON) -> bool:
        chat_id: Any = params.get("chat_id")
        group = self.groups.get(int(chat_id)) if str(chat_id).lstrip("-").isdigit() else None
        if group is None:
            self._chat_param(params)  # "chat not found", or a private chat:
            raise bad("chat member status can't be changed in private chats")
        if not group["member"]:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        group["member"] = False
        return True
