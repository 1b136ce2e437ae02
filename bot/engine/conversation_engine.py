"""One Rasa agent per process: it understands each message and decides what happens next."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.shared.core.events import ConversationPaused

import bot.engine.event_types  # noqa: F401 - Rasa finds event classes by name once
from bot.engine.inprocess_actions import InProcessActionEndpoint
from bot.engine.sequential_runner import run_sequentially
from bot.engine.tracker_store import EncryptedSQLTrackerStore
from bot.engine.without_tensorflow import check_graph
from bot.training import check_model_hash

logger = logging.getLogger(__name__)

BotMessage = dict[str, Any]  # {"message": key, ...parameters}, rendered by bot.render
# Inside answering_first(): a message's answer is returned before its conversation is written.
_ANSWER_FIRST: contextvars.ContextVar[bool] = contextvars.ContextVar("answer_first",
                                                                     default=False)


def loaded(agent: Agent) -> Agent:
    """A freshly loaded agent, checked and with the memory its loading freed given back.

    skops rebuilds the classifiers from a ~700 MB archive: millions of small objects that
    are freed again, and glibc keeps their pages unless asked to return them once (~70 MB of
    the bot's RSS, measured)."""
    check_graph(node.uses for node in agent.processor.graph_runner._graph_schema.nodes.values())
    run_sequentially(agent)
    gc.collect()
    if libc := ctypes.util.find_library("c"):
        malloc_trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)
        if malloc_trim is not None:  # glibc only
            malloc_trim(0)
    # The model is ~570,000 objects that live as long as the process; a full collection that
    # walks them takes ~200 ms, during which no message is answered. Frozen, collections
    # look only at what conversations create.
    gc.freeze()
    return agent


class ConversationEngine:
    def __init__(self, agent: Agent, tracker_store: EncryptedSQLTrackerStore) -> None:
        self._agent = agent
        self._tracker_store = tracker_store
        self._parsed: dict[str, dict[str, Any]] = {}  # message id -> parse, until handled
        # output channel -> set once the dialogue has said all it will say to that message
        self._answered: dict[int, asyncio.Future] = {}
        # sender -> the rest of their messages' handling: writing the conversation, unlocking
        self._writing: dict[str, list[asyncio.Future]] = {}
        processor = agent.processor
        parse_message = processor.parse_message
        run_prediction_loop = processor._run_prediction_loop

        async def predict_and_tell(output_channel: Any, *args: Any, **kwargs: Any) -> None:
            await run_prediction_loop(output_channel, *args, **kwargs)
            answered = self._answered.get(id(output_channel))
            if answered is not None and not answered.done():
                answered.set_result(None)

        processor._run_prediction_loop = predict_and_tell

        async def parse_and_keep(message: UserMessage, *args: Any, **kwargs: Any
                                 ) -> dict[str, Any]:
            parsed = await parse_message(message, *args, **kwargs)
            if message.message_id is not None:
                self._parsed[message.message_id] = parsed
            return parsed

        processor.parse_message = parse_and_keep

    @classmethod
    def load(cls, model_path: Path, tracker_store: EncryptedSQLTrackerStore,
             lock_store: LockStore | None = None) -> ConversationEngine:
        """lock_store: one message of a conversation at a time (bot/engine/lock_store.py);
        in memory unless given."""
        check_model_hash(model_path)  # a model runs code when loaded: only the one trained
        agent = Agent.load(
            str(model_path),
            tracker_store=tracker_store,
            lock_store=lock_store or InMemoryLockStore(),
            action_endpoint=InProcessActionEndpoint.for_package("bot.actions"),
        )
        return cls(loaded(agent), tracker_store)

    async def handle(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Run one user message through NLU, policies and actions; return what to say."""
        replies, _ = await self.handle_and_parse(sender_id, text, metadata)
        return replies

    async def handle_and_parse(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> tuple[list[BotMessage], dict[str, Any]]:
        """handle(), plus what the NLU made of the message (intent, language...), so that the
        message is parsed once, not once more by whoever wants to know its language."""
        channel = CollectingOutputChannel()
        message = UserMessage(
            text, channel, sender_id, input_channel="passage", metadata=metadata or {}
        )
        if not _ANSWER_FIRST.get():
            try:
                await self._handle_message(message)
            finally:
                parsed = self._parsed.pop(message.message_id, {})
        else:
            answered = asyncio.get_running_loop().create_future()
            self._answered[id(channel)] = answered
            work = asyncio.ensure_future(self._handle_message(message))
            try:
                await asyncio.wait({work, answered}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                del self._answered[id(channel)]
                parsed = self._parsed.pop(message.message_id, {})
                if not work.done():  # still writing: answering_first() awaits it
                    self._writing.setdefault(sender_id, []).append(work)
            if work.done():
                work.result()  # what went wrong before the answer
        replies = []
        for sent in channel.messages:
            if isinstance(sent.get("custom"), dict) and "message" in sent["custom"]:
                replies.append(sent["custom"])
            else:
                logger.warning("the dialogue produced a reply that is not a message key")
        return replies, parsed

    async def _handle_message(self, message: UserMessage) -> None:
        with self._tracker_store.resuming(message.sender_id):  # back from a caseworker
            await self._agent.handle_message(message)

    @contextlib.asynccontextmanager
    async def answering_first(self, sender_id: str) -> AsyncIterator[None]:
        """Within it, handle() returns a message's answer as soon as the dialogue has given
        it, while the conversation is still being written and unlocked, so that the answer
        can be on its way meanwhile; on leaving, that writing is awaited (and what failed in
        it raised). The edge keeps the person's next message waiting until then."""
        token = _ANSWER_FIRST.set(True)
        try:
            yield
        finally:
            _ANSWER_FIRST.reset(token)
            await self.settled(sender_id)

    async def settled(self, sender_id: str) -> None:
        """Wait until every message of `sender_id` handled so far is written."""
        for work in self._writing.pop(sender_id, []):
            await work

    async def parse(self, text: str) -> dict[str, Any]:
        """NLU only: intent, entities and confidence, without touching any conversation."""
        return await self._agent.parse_message(text)

    async def slots(self, sender_id: str) -> dict[str, Any]:
        await self.settled(sender_id)
        tracker = await self._tracker_store.retrieve(sender_id)
        return tracker.current_slot_values() if tracker else {}

    async def pause(self, sender_id: str) -> None:
        """A caseworker has the conversation: Rasa keeps it but does not answer."""
        async with self._agent.lock_store.lock(sender_id):
            tracker = await self._agent.processor.get_tracker(sender_id)
            if not tracker.is_paused():
                tracker.update(ConversationPaused())
                await self._tracker_store.save(tracker)

    async def forget(self, sender_id: str) -> None:
        await self.settled(sender_id)  # or a write still under way would bring it back
        await self._tracker_store.delete(sender_id)
