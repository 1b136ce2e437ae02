"""Survivors' journeys and the two ways to drive them: Telegram updates through the fake Bot API
(Passage) and Rasa's REST channel over HTTP (the stock deployment).

A journey is what someone does from first contact to asking for a person: a greeting, a need in
their own words, a shared location (the results come back), "I want to talk to a person". Each
user waits for the answer to one message before sending the next (and, with an offered rate,
for the time the schedule gives it), as a person does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.fake_bot_api import FakeBotAPI, FakeUser

Step = tuple[str, Any]  # ("text", "hola") or ("location", (lat, lon))
MADRID, CHICAGO, LONDON = (40.4168, -3.7038), (41.8781, -87.6298), (51.5072, -0.1276)
LOS_ANGELES, MANILA = (34.0522, -118.2437), (14.5995, 120.9842)
# language: greeting, a need in words, where they are, asking for a person
JOURNEYS: dict[str, tuple[str, str, tuple[float, float], str]] = {
    "en": ("hi there", "I have nowhere to sleep tonight", CHICAGO,
           "can I talk to a real person please"),
    "es": ("hola", "no tengo dónde dormir esta noche", MADRID, "quiero hablar con una persona"),
    "fr": ("bonjour", "j'ai besoin d'un avocat", MADRID, "je veux parler à une personne"),
    "pt": ("olá", "preciso de um médico", LOS_ANGELES, "quero falar com uma pessoa"),
    "ru": ("привет", "мне негде спать сегодня ночью", LONDON, "хочу поговорить с человеком"),
    "uk": ("привіт", "мені потрібна допомога юриста", LONDON, "хочу поговорити з людиною"),
    "ar": ("مرحبا", "ما عندي مكان أنام فيه الليلة", LONDON, "بدي احكي مع شخص"),
    "zh": ("你好", "我今晚没有地方睡觉", LOS_ANGELES, "我想和真人说话"),
    "tl": ("kumusta", "wala akong matutulugan ngayong gabi", MANILA, "gusto kong kausapin ang tao"),
}
# After the first reply, more replies to the same message may follow: a message is done when
# as many replies came as the warm-up saw for it, or else when none came for this long.
SETTLE_SECONDS = 0.15
REPLY_TIMEOUT = 60.0


def journey(language: str) -> list[Step]:
    greeting, need, where, person = JOURNEYS[language]
    return [("text", greeting), ("text", need), ("location", where), ("text", person)]


def shared_location_text(latitude: float, longitude: float) -> str:
    """What Passage's own on_location hands to Rasa for a shared location."""
    return "/share_location" + json.dumps({"location": f"{latitude:.6f},{longitude:.6f}"})


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, answered messages only
    # (latency s, seconds into the phase when sent, language, step number), answered only
    records: list[tuple[float, float, str, int]] = field(default_factory=list)
    sent: int = 0
    unanswered: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def wall(self) -> float:
        return self.finished - self.started


class TimedFakeBotAPI(FakeBotAPI):
    """The strict fake, noting when each bot message arrives in each chat."""

    def __init__(self) -> None:
        # A bot of its own each run: update ids start again, so Redis must not know them.
        super().__init__(token=f"{random.randint(10**8, 10**9)}:LOAD")
        self.arrivals: dict[int, list[float]] = {}

    def _send(self, chat: Any, params: Any, **content: Any) -> Any:
        sent = super()._send(chat, params, **content)
        self.arrivals.setdefault(chat.user.id, []).append(time.perf_counter())
        return sent

    def polling(self) -> bool:
        return any(call.method.lower() == "getupdates" for call in self.calls)

    def webhooks_set(self) -> int:
        return sum(call.method.lower() == "setwebhook" and call.ok for call in self.calls)


class PassageDriver:
    """One survivor = one Telegram user of the fake; latency = update queued -> reply sent.

    Telegram does not say when the bot has finished answering a message. The warm-up learns
    how many replies each message of each journey gets (waiting for SETTLE_SECONDS of quiet);
    afterwards a survivor writes again as soon as that many have come, as the stock side's
    survivors do when its HTTP answer comes, instead of idling for the quiet period."""

    def __init__(self, fake: TimedFakeBotAPI) -> None:
        self.fake = fake
        self.replies: dict[tuple[str | None, Step], int] = {}  # (language, step) -> replies

    def user(self, language: str) -> FakeUser:
        return self.fake.new_user(first_name="Load", language_code=language)

    async def say(self, user: FakeUser, step: Step) -> float | None:
        arrivals = self.fake.arrivals.setdefault(user.id, [])
        before = len(arrivals)
        queued = time.perf_counter()
        if step[0] == "location":
            await self.fake.share_location(user, *step[1])
        else:
            await self.fake.send_text(user, step[1])
        if not await self.fake.wait_until(lambda: len(arrivals) > before, REPLY_TIMEOUT):
            return None
        latency = arrivals[before] - queued
        key = (user.language_code, step)
        expected = self.replies.get(key)
        if expected is not None and await self.fake.wait_until(
                lambda: len(arrivals) - before >= expected, SETTLE_SECONDS):
            return latency
        while True:  # not learnt yet, or fewer replies than learnt: wait for quiet
            count = len(arrivals)
            await asyncio.sleep(SETTLE_SECONDS)
            if len(arrivals) == count:
                self.replies.setdefault(key, count - before)
                return latency


class StockDriver:
    """One survivor = one REST sender; latency = request sent -> replies received."""

    _ids = itertools.count(1)

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session, self.url = session, f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        self.reply_keys: Counter[str] = Counter()  # which messages the dialogue chose

    def user(self, language: str) -> str:
        return f"load-{language}-{next(self._ids)}"

    async def say(self, user: str, step: Step) -> float | None:
        text = shared_location_text(*step[1]) if step[0] == "location" else step[1]
        started = time.perf_counter()
        try:
            async with self.session.post(self.url, json={"sender": user, "message": text},
                                         timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT)
                                         ) as answer:
                replies = await answer.json() if answer.status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None
        if not replies:
            return None
        self.reply_keys.update(str((r.get("custom") or {}).get("message")) for r in replies)
        return time.perf_counter() - started


Say = Callable[[Any, Step], Awaitable["float | None"]]


def languages(n: int) -> list[str]:
    return [sorted(JOURNEYS)[i % len(JOURNEYS)] for i in range(n)]


async def _run_user(driver: PassageDriver | StockDriver, language: str, outcome: Outcome,
                    schedule: list[float] | None = None) -> None:
    user = driver.user(language)
    for index, step in enumerate(journey(language)):
        if schedule is not None:
            await asyncio.sleep(max(0.0, schedule[index] - time.perf_counter()))
        outcome.sent += 1
        sent = time.perf_counter() - outcome.started
        latency = await driver.say(user, step)
        if latency is None:
            outcome.unanswered += 1
            return  # a person who got no answer does not go on
        outcome.latencies.append(latency)
        outcome.records.append((latency, sent, language, index + 1))


async def closed_loop(driver: PassageDriver | StockDriver, users: int,
                      concurrency: int) -> Outcome:
    """`concurrency` survivors at a time, each next one starting when one finishes."""
    outcome, queue = Outcome(), list(reversed(languages(users)))

    async def worker() -> None:
        while queue:
            await _run_user(driver, queue.pop(), outcome)

    outcome.started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    outcome.finished = time.perf_counter()
    return outcome


async def offered_load(driver: PassageDriver | StockDriver, users: int, rate: float,
                       think_seconds: float = 2.0) -> Outcome:
    """Messages offered at `rate` per second overall: a new survivor every steps/rate
    seconds, each writing every `think_seconds` (later if the answer is late)."""
    steps = len(journey("en"))
    outcome = Outcome(started=time.perf_counter())
    tasks = []
    for index, language in enumerate(languages(users)):
        start = outcome.started + index * steps / rate
        schedule = [start + k * think_seconds for k in range(steps)]
        tasks.append(asyncio.create_task(_run_user(driver, language, outcome, schedule)))
    await asyncio.gather(*tasks)
    outcome.finished = time.perf_counter()
    return outcome


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(outcome: Outcome) -> dict[str, Any]:
    answered = len(outcome.latencies)
    slowest = sorted(outcome.records, reverse=True)[:max(1, answered // 100)]
    steps = sorted({step for *_, step in outcome.records})
    by_step = {step: [r[0] for r in outcome.records if r[3] == step] for step in steps}
    return {
        # per step of the journey (1 greeting ... 4 asking for a person): p50/p99 ms
        "by_step": {step: [round(percentile(values, q) * 1000, 1) for q in (50, 99)]
                    for step, values in by_step.items()},
        # the messages beyond p99: "ms@s language step", when each was sent into the phase
        "slowest": [f"{1000 * latency:.0f}ms@{sent:.1f}s {language} {step}"
                    for latency, sent, language, step in slowest],
        "messages": outcome.sent, "answered": answered, "unanswered": outcome.unanswered,
        "seconds": round(outcome.wall, 2),
        "msgs_per_s": round(answered / outcome.wall, 2) if outcome.wall else 0.0,
        **{f"p{q}_ms": round(percentile(outcome.latencies, q) * 1000, 1) for q in (50, 95, 99)},
    }
