"""Generated updates, good and hostile, through the real handlers of build_application against
the strict fake Bot API: nothing raises, Telegram would accept every call the bot makes, every
private message gets a reply or a rate-limit verdict, every button tap is answered, and nothing
is sent to a group or channel (the bot only leaves them).

Updates are handed to ``Application.process_update`` (no long polling) in batches that
hypothesis draws (derandomized: the same updates every run). Texts make Rasa run, so they
are a small share of the >= 10 000 updates.
"""

from __future__ import annotations

import asyncio
import os
import time

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session
from telegram import Update

from bot import telegram_app
from bot.conversation import BUTTON_PAYLOADS, COMMANDS
from bot.desk import roster
from bot.desk.models import Case, CaseEvent, CaseMessage, Caseworker, Notice, Outbox
from bot.rate_limit import URGENT_BURST, URGENT_SECONDS, MemoryRateLimit, RateLimit, Verdict
from bot.telegram_gate import telegram_rate_limiter

UPDATES = int(os.environ.get("PASSAGE_FUZZ_UPDATES", "10000"))
BATCH = 10
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068" \
            "\u2069\ufeff"
HOSTILE = ["<b>", "</i>", "&amp;", "&nbsp;", "<a href='tg://x'>", "*bold*", "_x_", "`", "[a](b)",
           "\\", "\x00", "مرحبا", "שלום", "😀", "\U0001f3f3\ufe0f\u200d\U0001f308", "\n", " "]
WORDS = ["help", "I need a place to sleep", "lawyer", "Madrid", "estoy en cdmx", "danger",
         "thanks", "bye", "exit", "/exit", "ayuda", "я в опасности", "我需要医生"]
DESK_COMMANDS = ["/duty on", "/duty off", "/queue", "/cases", "/claim", "/case", "/note",
                 "/release", "/close", "/transfer", "/end", "/roster", "/privacy", "/safeword"]

pieces = st.one_of(st.sampled_from(HOSTILE + WORDS), st.sampled_from(INVISIBLE),
                   st.text(max_size=8))
texts = st.one_of(
    st.lists(pieces, min_size=1, max_size=6).map("".join),
    st.builds(lambda s, n: (s * n)[:4096], st.text(min_size=1, max_size=12),
              st.integers(1, 4096)),  # up to 4096 characters
)
commands = st.builds(lambda c, junk: f"{c} {junk}" if junk else c,
                     st.sampled_from([*COMMANDS, *DESK_COMMANDS, "/", "/x@other_bot"]),
                     st.one_of(st.just(""), texts, st.integers().map(str)))
callback_data = st.one_of(
    st.sampled_from([*BUTTON_PAYLOADS, "forget:yes", "handoff:yes", "handoff:share",
                     "handoff:noshare", "handoff:cancel", "handoff:end", "lang:ar", "lang:xx",
                     "desk:claim:1", "desk:claim:-5", "desk:transfer:1:2", "desk:", "exit"]),
    st.text(max_size=70), st.builds(lambda n: "x" * n, st.integers(65, 300)))
file = {"file_id": "f", "file_unique_id": "u"}
contents = st.sampled_from([
    {"photo": [{**file, "width": 1, "height": 1}]},
    {"sticker": {**file, "type": "regular", "width": 1, "height": 1, "is_animated": False,
                 "is_video": False}},
    {"voice": {**file, "duration": 3}},
    {"video": {**file, "width": 1, "height": 1, "duration": 3}},
    {"document": file},
    {"contact": {"phone_number": "+100", "first_name": "<b>X</b>"}},
    {"poll": {"id": "1", "question": "?",
              "options": [{"text": "a", "voter_count": 0, "persistent_id": "0"}],
              "total_voter_count": 0, "is_closed": False, "is_anonymous": True,
              "type": "regular", "allows_multiple_answers": False, "allows_revoting": False,
              "members_only": False}},
    {"dice": {"emoji": "🎲", "value": 3}},
])
coordinates = st.one_of(st.floats(-90, 90), st.floats(-1e6, 1e6), st.sampled_from([
    100.0, -181.0, 0.0, 1e308]))
LANGUAGES = ["en", "es", "ar", None, "zh", "xx", "uk", "th", "fr", "tl", "ro", "pt-br"]
users = st.integers(0, 3 * len(LANGUAGES) - 1)  # user 0 is a caseworker
# Weights: what makes Rasa run (texts, commands, locations, most buttons) is about a third.
WEIGHTED = [("text", texts, 2), ("command", commands, 1), ("forward", texts, 1),
            ("location", st.tuples(coordinates, coordinates), 1), ("button", callback_data, 2),
            ("content", contents, 9), ("edit", texts, 3), ("group", texts, 2),
            ("channel", texts, 2)]
updates = st.one_of(*[st.tuples(st.just(kind), users, data)
                      for kind, data, weight in WEIGHTED for _ in range(weight)])


PRIVATE_MESSAGES = {"text", "command", "forward", "location", "content"}
SENDING = {"sendmessage", "sendlocation", "editmessagetext", "editmessagereplymarkup"}


class RecordedVerdicts:
    """A rate limit that remembers every verdict it gave."""

    def __init__(self, limit: RateLimit, verdicts: list[Verdict]) -> None:
        self._limit, self._verdicts = limit, verdicts

    async def check(self, key: str) -> Verdict:
        verdict = await self._limit.check(key)
        self._verdicts.append(verdict)
        return verdict


def _broken_promises(fake, kind: str, user, raw: dict, calls: list,  # noqa: ANN001
                     verdicts: list[Verdict]) -> list[str]:
    """What this update's handling broke of the promises in the module's docstring."""
    broken = []
    refused = any(verdict is not Verdict.ALLOW for verdict in verdicts)
    replied = any(c.ok and c.method.lower() in SENDING and int(c.params["chat_id"]) == user.id
                  for c in calls)
    if kind in PRIVATE_MESSAGES and not (replied or refused):
        broken.append(f"no reply and no verdict: {kind} {raw['message']}")
    if kind == "button" and not fake._callback_queries[raw["callback_query"]["id"]]:
        broken.append(f"tap not answered: {raw['callback_query']['data']!r}")
    return broken


def _to_groups_or_channels(calls: list) -> list[str]:
    """Anything but leaving, addressed to a group or channel (negative chat ids)."""
    return [f"{c.method} to chat {c.params['chat_id']}" for c in calls
            if c.method.lower() != "leavechat" and int(c.params.get("chat_id", 1)) < 0]


class Clock:
    """The rate limit's clock: 1/50 s per update, so a few bursts are refused."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.02
        return self.now


def _clean_desk(database) -> None:  # noqa: ANN001
    with Session(database) as session, session.begin():
        for table in (Notice, Outbox, CaseMessage, CaseEvent, Case, Caseworker):
            session.execute(delete(table))


async def _push(fake, people, kind: str, who: int, data) -> None:  # noqa: ANN001
    user = people[who]
    if kind == "text":
        await fake.send_text(user, data)
    elif kind == "command":
        await fake.send_command(user, data)
    elif kind == "forward":
        await fake.forward_text(user, data)
    elif kind == "edit":
        msg = fake._user_message(user, text="hello")
        await fake.edit_text(user, msg["message_id"], data)
    elif kind == "content":
        await fake.send_content(user, **data)
    elif kind == "location":
        await fake.share_location(user, *data)
    elif kind == "button":
        await fake.press_forged_button(user, data)
    elif kind == "group":
        await fake.send_group_text(user, fake.new_group(supergroup=who % 2 == 1), data)
    else:
        await fake.post_in_channel(data)


async def test_generated_updates_never_break_the_bot(fake_telegram, passage, database,
                                                     monkeypatch):
    monkeypatch.setattr(telegram_app, "telegram_rate_limiter",
                        lambda *_: telegram_rate_limiter(overall_per_second=0))  # no flood
    _clean_desk(database)
    fake = fake_telegram
    application = telegram_app.build_application(passage, fake.token, fake.base_url)
    clock, verdicts = Clock(), []
    application.bot_data["rate_limit"] = RecordedVerdicts(MemoryRateLimit(clock=clock), verdicts)
    application.bot_data["urgent_rate_limit"] = RecordedVerdicts(
        MemoryRateLimit(URGENT_BURST, 1 / URGENT_SECONDS, clock), verdicts)
    errors: list[BaseException] = []
    broken: list[str] = []

    async def record(update: object, context) -> None:  # noqa: ANN001
        errors.append(context.error)

    application.add_error_handler(record)
    await application.initialize()
    people = [fake.new_user(first_name="<i>Ana</i>\u202e", language_code=language)
              for language in LANGUAGES * 3]
    roster.add(database, people[0].id, "Case\u202eworker <b>", "en,es,ar", None, "admin")
    loop, processed = asyncio.get_running_loop(), []

    async def feed(batch: list) -> None:
        for kind, who, data in batch:
            await _push(fake, people, kind, who, data)
            for raw in fake.take_updates():
                calls, checks = len(fake.calls), len(verdicts)
                await application.process_update(Update.de_json(raw, application.bot))
                processed.append(kind)
                broken.extend(_broken_promises(fake, kind, people[who], raw, fake.calls[calls:],
                                               verdicts[checks:]))
        await telegram_app.deliver_outbox(application)

    @settings(max_examples=UPDATES // BATCH, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(st.lists(updates, min_size=BATCH, max_size=BATCH))
    def run(batch: list) -> None:
        asyncio.run_coroutine_threadsafe(feed(batch), loop).result()
        assert errors == [], errors
        assert fake.rejected == [], fake.rejected[:3]
        assert broken == [], broken[:3]
        assert _to_groups_or_channels(fake.calls) == []

    started = time.monotonic()
    try:
        await loop.run_in_executor(None, run)
    finally:
        await application.shutdown()
        _clean_desk(database)
    kinds = {kind: processed.count(kind) for kind in set(processed)}
    print(f"\n{len(processed)} updates in {time.monotonic() - started:.1f} s: {kinds}")
    assert len(processed) >= UPDATES
    assert errors == [] and fake.rejected == [] and broken == []
    assert _to_groups_or_channels(fake.calls) == []
