"""Where `passage run` spends its time per message, from py-spy's collapsed stacks.

Each line of py-spy's raw output is one distinct stack, outermost frame first, frames joined
by ";", then a space and how many samples had it. A function's inclusive time counts every
sample with the function anywhere on the stack (once per sample); its self time, the samples
where it was the innermost frame. Both are shown in milliseconds per answered message.

py-spy samples only the thread holding the GIL (`--gil`), so what is counted is Python's CPU
time: waits for the database, the network or the GIL itself are left out, and so is C code that
releases the GIL (SQLite's own work). Samples whose innermost frame is a known idle wait are
dropped all the same. Frames of the plumbing every sample passes through (threads, asyncio,
PTB's dispatch, dask's task runner) are left out of the inclusive list.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from benchmarks.load_procs import SPY_RATE

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
_SITE = re.compile(r".*/(?:site-packages|lib/python3\.\d+)/")
IDLE = {"concurrent/futures/thread.py:_worker", "telegram/ext/_application.py:__run",
        "selectors.py:select", "threading.py:wait", "asyncio/base_events.py:_run_once"}
PLUMBING = ("threading.py:", "concurrent/futures/", "asyncio/", "passage:", "bot/cli.py:",
            "telegram/ext/_application.py:", "telegram/ext/_baseupdateprocessor.py:",
            "telegram/ext/_handlers/basehandler.py:", "dask/", "rasa/engine/runner/dask.py:",
            "contextvars", "<frozen")


def _name(frame: str) -> str:
    """`function (path/to/module.py:123)` -> `module.py:function`, with package paths."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = _SITE.sub("", match["file"]).replace(str(Path.cwd()) + "/", "")
    return f"{path}:{match['function']}"


def read_stacks(path: Path) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit() and _name(frames.split(";")[-1]) not in IDLE:
            stacks[tuple(_name(f) for f in frames.split(";"))] += int(count)
    return stacks


def costs(stacks: Counter[tuple[str, ...]]) -> tuple[Counter[str], Counter[str], int]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks.items():
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    return inclusive, own, sum(stacks.values())


def print_profile(path: Path, messages: int, top: int = 30, file: TextIO = sys.stdout) -> None:
    inclusive, own, total = costs(read_stacks(path))
    per_message = 1000 / SPY_RATE / max(1, messages)
    print(f"\npy-spy: {total} samples at {SPY_RATE}/s = {total / SPY_RATE:.1f} s busy, "
          f"{messages} messages: {total * per_message:.1f} ms per message", file=file)
    print("\ninclusive ms/msg  share  function", file=file)
    shown = [(n, c) for n, c in inclusive.most_common() if not n.startswith(PLUMBING)]
    for name, count in shown[:top]:
        print(f"{count * per_message:16.2f}  {count / total:5.0%}  {name}", file=file)
    print("\nself ms/msg  share  function", file=file)
    for name, count in own.most_common(top):
        print(f"{count * per_message:11.2f}  {count / total:5.0%}  {name}", file=file)


if __name__ == "__main__":
    print_profile(Path(sys.argv[1]), int(sys.argv[2]))
