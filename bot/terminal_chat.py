"""`passage chat`: the same Passage in a terminal. Buttons become numbered choices."""

from __future__ import annotations

import asyncio
import html
import re
import sys

from bot.conversation import Passage, Person
from bot.render import Button, Reply

LOCAL_CHAT_ID = 1  # the one person at this terminal
_TAGS = re.compile(r"<[^>]+>")
HELP = "Type a message, a number to press a button, /location LAT,LON to share a location, /quit."


_BIDI_CONTROLS = str.maketrans("", "", "\u200f\u2068\u2069")


def plain(text: str) -> str:
    """What a terminal should show: no HTML, no invisible direction marks."""
    return html.unescape(_TAGS.sub("", text)).translate(_BIDI_CONTROLS)


def show(replies: list[Reply], out=sys.stdout) -> list[Button]:  # noqa: ANN001
    """Print replies; return the buttons in the order of their numbers."""
    buttons: list[Button] = []
    for reply in replies:
        print(f"\nPassage: {plain(reply.text)}", file=out)
        for row in reply.buttons:
            for button in row:
                buttons.append(button)
                print(f"  [{len(buttons)}] {button.label}", file=out)
        if reply.location_button:
            print(f"  ({reply.location_button}: /location LAT,LON)", file=out)
    return buttons


async def handle_line(passage: Passage, person: Person, line: str,
                      buttons: list[Button]) -> list[Reply] | None:
    """What one typed line does; None when the line is not valid here (say why, change nothing)."""
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return await passage.on_button(person, buttons[int(line) - 1].data)
    if line.startswith("/location"):
        try:
            lat_text, lon_text = line.removeprefix("/location").strip().split(",")
            latitude, longitude = float(lat_text), float(lon_text)
        except ValueError:
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return await passage.on_location(person, latitude, longitude)
    return await passage.on_text(person, line)


async def chat(passage: Passage, language: str | None) -> None:
    person = Person(LOCAL_CHAT_ID, language)
    print(HELP)
    buttons = show(await passage.on_text(person, "/start"))
    while True:
        try:
            line = (await asyncio.to_thread(input, "\nYou: ")).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line in ("/quit", "/exit"):
            break
        if not line:
            continue
        replies = await handle_line(passage, person, line, buttons)
        if replies is None:
            print("Use /location LAT,LON, for example /location 40.4168,-3.7038")
            continue
        buttons = show(replies)
