"""Load benchmark: Passage (`passage run` behind the fake Telegram Bot API) against a stock Rasa
deployment of the same model (`rasa run --enable-api` + `rasa run actions`), same journeys.

    python benchmarks/load.py [--users 200] [--concurrency 10] [--rate 30] [--json]
                              [--workers N] [--send-rate 0] [--redis-url URL]
                              [--model /path/m.tar.gz] [--profile /tmp/passage.stacks]
                              [--rounds N]

Each side gets a fresh PASSAGE_HOME (a key file, the sample directory): `passage run` polls
the fake Bot API (tests/fake_bot_api.py) in this process (`--workers N`: `passage run
--workers N` in webhook mode, the fake posting the updates, Redis shared), and the stock
servers answer Rasa's REST channel. Both are started and warmed up first; then each round
measures Passage while the stock servers wait idle, and then the other way round
(`--rounds N`: the table is the round with the median ratio, and every round is listed: this
machine's speed drifts by up to 2x within minutes). Telegram's 30 messages a second for one
bot are lifted (`--send-rate 0`, PASSAGE_SEND_RATE) so that the bot's own capacity is
measured, not Telegram's ceiling; the stock REST channel has no such limit either. Per side:

* saturation: `--users` survivors (greeting, a need in words, a shared location, "talk to a
  person"; nine languages), `--concurrency` at a time, each message sent when the last one was
  answered. Throughput = answered messages / wall time.
* offered load (`--rate`, 0 to skip): the same number of new survivors, messages offered at that
  rate overall; p99 there is the latency at that load.

Latency for Passage runs from the moment the fake queues the update to the moment the bot's
first reply reaches the fake (long polling or the webhook, PTB, Rasa, the desk, sending); for
the stock side, from the POST to its response. CPU is the server processes' user + system time
during the saturation phase; peak RSS is /proc's VmHWM. `--profile FILE` samples `passage run`
with py-spy during the saturation phase and prints where its time goes per message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from benchmarks import load_procs as procs  # noqa: E402
from benchmarks.load_journeys import (  # noqa: E402
    PassageDriver,
    StockDriver,
    TimedFakeBotAPI,
    closed_loop,
    journey,
    offered_load,
    summary,
)
from benchmarks.load_profile import print_profile  # noqa: E402

PUBLIC_URL = "https://passage.example.org"  # the webhook; the fake routes it to the workers
DEFAULT_MODEL = Path(os.environ.get("PASSAGE_MODEL") or procs.ROOT / "var/models/passage.tar.gz")
Result = dict[str, Any]


@dataclass
class Side:
    """One deployment, started and warmed up, between rounds of measurement."""

    driver: PassageDriver | StockDriver
    pids: list[int]  # the server processes whose CPU counts
    extras: Callable[[], Result]  # peak RSS and the like, read after a round
    database: list[int] = field(default_factory=list)  # PostgreSQL's processes, counted too


async def _phases(side: Side, args: argparse.Namespace, profile: Path | None = None) -> Result:
    spy = procs.start_py_spy(side.pids[0], profile) if profile else None
    cpu_before = procs.cpu_seconds(side.pids)
    database_before = procs.cpu_seconds(side.database)
    harness_before = time.process_time()
    saturation = summary(await closed_loop(side.driver, args.users, args.concurrency))
    harness_cpu = time.process_time() - harness_before
    database_cpu = procs.cpu_seconds(side.database) - database_before
    cpu = procs.cpu_seconds(side.pids) - cpu_before + database_cpu
    if spy:
        spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
        spy.wait(60)

    def per_message(seconds: float) -> float:
        return round(1000 * seconds / max(1, saturation["answered"]), 1)

    result: Result = {**saturation, "cpu_s": round(cpu, 1), "cpu_ms_per_msg": per_message(cpu),
                      "cpu_util": round(cpu / saturation["seconds"], 2),
                      # this process: the generator, and for Passage the fake Bot API too
                      "harness_cpu_ms_per_msg": per_message(harness_cpu)}
    if side.database:
        result["database_cpu_ms_per_msg"] = per_message(database_cpu)
    if args.rate > 0:
        result["at_rate"] = summary(await offered_load(side.driver, args.users, args.rate))
    return {**result, **side.extras()}


@contextlib.asynccontextmanager
async def passage_side(args: argparse.Namespace) -> AsyncIterator[Side]:
    with contextlib.ExitStack() as stack:
        database_url = (stack.enter_context(procs.fresh_postgres_schema(args.database_url))
                        if args.database_url else None)
        env = {**procs.passage_home(args.model, database_url),
               "PASSAGE_SEND_RATE": str(args.send_rate)}
        fake = TimedFakeBotAPI()
        await fake.start()
        if args.workers:
            port = procs.free_port()
            fake.route_webhooks(PUBLIC_URL, f"http://127.0.0.1:{port}")
            env.update(PASSAGE_WEBHOOK_URL=f"{PUBLIC_URL}/updates",
                       PASSAGE_LISTEN=f"127.0.0.1:{port}", PASSAGE_REDIS_URL=args.redis_url)
        server = procs.start_passage(env, fake.token, fake.base_url, args.nice, args.workers)

        def extras() -> Result:
            server.check_alive()
            result: Result = {"rejected_calls": len(fake.rejected)}
            if args.workers:  # the largest worker; all of them together
                peaks = procs.peak_rss_of_workers(server.pid)
                result.update(peak_rss_mb=round(max(peaks), 1),
                              workers_peak_rss_mb=round(sum(peaks), 1))
            else:
                result.update(peak_rss_mb=round(procs.rss_mb(server.pid), 1),
                              rss_end_mb=round(procs.rss_mb(server.pid, "VmRSS"), 1))
            return result

        try:
            deadline = time.monotonic() + 300
            while not (fake.webhooks_set() >= args.workers if args.workers else fake.polling()):
                server.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError("passage run did not start within 300 s")
                await asyncio.sleep(0.5)
            driver = PassageDriver(fake)
            await closed_loop(driver, 9, 3)  # warm-up: one journey per language
            yield Side(driver, [server.pid], extras,
                       procs.postgres_pids() if database_url else [])
        finally:
            server.stop()
            await fake.stop()


@contextlib.asynccontextmanager
async def stock_side(args: argparse.Namespace) -> AsyncIterator[Side]:
    env = procs.passage_home(args.model)
    rasa, actions, port = procs.start_stock(env, args.model, args.nice)
    try:
        await procs.wait_http(f"http://127.0.0.1:{port}/status", [rasa, actions])
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            driver = StockDriver(session, port)

            def extras() -> Result:
                rasa.check_alive()
                return {"peak_rss_mb": round(procs.rss_mb(rasa.pid), 1),
                        "actions_peak_rss_mb": round(procs.rss_mb(actions.pid), 1),
                        "reply_keys": dict(driver.reply_keys)}

            await closed_loop(driver, 9, 3)  # warm-up
            yield Side(driver, [rasa.pid, actions.pid], extras)
    finally:
        rasa.stop()
        actions.stop()


async def measure(args: argparse.Namespace) -> list[tuple[Result, Result]]:
    """Both deployments up at once (the one not measured stays idle), then `--rounds` rounds,
    each measuring Passage and then stock Rasa: the two figures of a round are taken a minute
    apart, under the same conditions of the machine."""
    empty: Result = {"msgs_per_s": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0,
                     "peak_rss_mb": 0.0, "actions_peak_rss_mb": 0.0, "cpu_ms_per_msg": 0.0,
                     "cpu_util": 0.0, "harness_cpu_ms_per_msg": 0.0, "unanswered": 0,
                     "at_rate": {"msgs_per_s": 0.0, "p50_ms": 0.0, "p99_ms": 0.0}}
    async with contextlib.AsyncExitStack() as stack:
        passage = (await stack.enter_async_context(passage_side(args))
                   if args.only != "stock" else None)
        stock = (await stack.enter_async_context(stock_side(args))
                 if args.only != "passage" else None)
        rounds = []
        for index in range(max(1, args.rounds)):
            profile = args.profile if index == 0 else None  # the first round's stacks
            rounds.append((await _phases(passage, args, profile) if passage else empty,
                           await _phases(stock, args) if stock else empty))
        return rounds


def report(passage: Result, stock: Result, args: argparse.Namespace) -> Result:
    ratio = passage["msgs_per_s"] / stock["msgs_per_s"] if stock["msgs_per_s"] else None
    out: Result = {
        "users": args.users, "concurrency": args.concurrency, "rate": args.rate,
        "workers": args.workers, "send_rate": args.send_rate,
        "passage_msgs_per_s": passage["msgs_per_s"], "stock_msgs_per_s": stock["msgs_per_s"],
        "ratio": round(ratio, 2) if ratio else None,
        "p50_ms": passage["p50_ms"], "p95_ms": passage["p95_ms"], "p99_ms": passage["p99_ms"],
        "stock_p50_ms": stock["p50_ms"], "stock_p95_ms": stock["p95_ms"],
        "stock_p99_ms": stock["p99_ms"], "peak_rss_mb": passage["peak_rss_mb"],
        "stock_peak_rss_mb": stock["peak_rss_mb"] + stock["actions_peak_rss_mb"],
        "passage": passage, "stock": stock,
    }
    if args.rate > 0:
        out["p99_ms_at_rate"] = passage["at_rate"]["p99_ms"]
        out["stock_p99_ms_at_rate"] = stock["at_rate"]["p99_ms"]
    return out


def print_table(out: Result) -> None:
    rows = [("", "Passage", "stock Rasa", "ratio")]

    def row(label: str, key: str, lower_is_better: bool = False, fmt: str = "{:.1f}",
            source: str | None = None) -> None:
        a = (out["passage"][source] if source else out["passage"])[key]
        b = (out["stock"][source] if source else out["stock"])[key]
        ratio = (b / a if lower_is_better else a / b) if a and b else float("nan")
        rows.append((label, fmt.format(a), fmt.format(b), f"{ratio:.2f}×"))

    row("messages/s (saturation)", "msgs_per_s")
    for q in (50, 95, 99):
        row(f"p{q} ms (saturation)", f"p{q}_ms", lower_is_better=True)
    if out["rate"] > 0:
        row(f"messages/s offered {out['rate']:g}/s", "msgs_per_s", source="at_rate")
        for q in (50, 99):
            row(f"p{q} ms at {out['rate']:g} msg/s", f"p{q}_ms", True, source="at_rate")
    row("CPU ms per message", "cpu_ms_per_msg", lower_is_better=True)
    row("CPU cores busy", "cpu_util", lower_is_better=True, fmt="{:.2f}")
    if "database_cpu_ms_per_msg" in out["passage"]:
        rows.append(("  CPU ms of it PostgreSQL's",
                     f"{out['passage']['database_cpu_ms_per_msg']:.1f}", "", ""))
    row("CPU ms per message of the benchmark itself", "harness_cpu_ms_per_msg",
        lower_is_better=True)
    rows.append(("peak RSS MB", f"{out['peak_rss_mb']:.0f}",
                 f"{out['stock_peak_rss_mb']:.0f} (server + actions)", ""))
    unanswered = (out["passage"]["unanswered"], out["stock"]["unanswered"])
    rows.append(("unanswered", *map(str, unanswered), ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"{out['users']} survivors × {len(journey('en'))} messages, "
          f"concurrency {out['concurrency']}")
    for r in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)))


ROUND_KEYS = ("passage_msgs_per_s", "stock_msgs_per_s", "ratio", "p99_ms", "stock_p99_ms",
              "p99_ms_at_rate", "stock_p99_ms_at_rate")


def print_rounds(rounds: list[Result]) -> None:
    print("\nround  " + "  ".join(ROUND_KEYS))
    for number, r in enumerate(rounds, 1):
        print(f"{number:<5}  " + "  ".join(f"{r.get(key)}".ljust(len(key)) for key in ROUND_KEYS))


def print_tails(rounds: list[Result], rate: float) -> None:
    """Per round, Passage at the offered rate: its slowest 1 % and each step's p50/p99."""
    for number, r in enumerate(rounds, 1):
        at_rate = r["passage"]["at_rate"]
        print(f"round {number}, Passage's slowest 1% at {rate:g} msg/s "
              f"(latency@sent, language, step): " + ", ".join(at_rate["slowest"]))
        print(f"  p50/p99 ms by step: {at_rate['by_step']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rate", type=float, default=30.0, help="offered msgs/s; 0 = skip")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--nice", type=int, default=0, help="niceness of the servers")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of passage run")
    parser.add_argument("--only", choices=["passage", "stock"], help="run one side only")
    parser.add_argument("--workers", type=int, default=0,
                        help="N: passage run --workers N in webhook mode (needs Redis)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url",
                        help="PostgreSQL for Passage (a fresh schema in it); default SQLite")
    parser.add_argument("--send-rate", type=float, default=0,
                        help="PASSAGE_SEND_RATE: 0 lifts Telegram's 30 msg/s so that the "
                             "bot's own capacity is measured")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure both sides this many times, alternating; the table is "
                             "the round with the median ratio (this machine's speed drifts)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.model.is_file():
        parser.error(f"no model at {args.model} (set PASSAGE_MODEL or --model)")
    rounds = [report(passage, stock, args) for passage, stock in asyncio.run(measure(args))]
    out = sorted(rounds, key=lambda r: r["ratio"] or 0)[len(rounds) // 2]
    out["rounds"] = [{key: r.get(key) for key in ROUND_KEYS} for r in rounds]
    if args.json:
        print(json.dumps(out))
    else:
        print_table(out)
        if len(rounds) > 1:
            print_rounds(out["rounds"])
        if args.rate > 0 and args.only != "stock":
            print_tails(rounds, args.rate)
    if args.profile and args.profile.exists():
        print_profile(args.profile, rounds[0]["passage"].get("answered", 0), file=sys.stderr)


if __name__ == "__main__":
    main()
