"""Telegram's Bot API validation rules, as plain functions, for the fake Bot API and tests.

Each check raises ``ApiError`` with Telegram's status code and ``description`` wording, so a bug
that Telegram would reject fails the test. Text length and entity offsets are measured in UTF-16
code units, as Telegram does. Deliberate differences from Telegram:

* only ``parse_mode=HTML`` is parsed; Markdown/MarkdownV2 are rejected as unsupported here;
* an unknown named HTML entity (``&nbsp;``) is rejected, where Telegram would show it literally.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

JSON = dict[str, Any]

_ENTITY_RE = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
_START_TAG_RE = re.compile(r"<([^\s>]*)([^>]*)>")
_END_TAG_RE = re.compile(r"</([^\s>]*)\s*>")
_ATTR_RE = re.compile(r"([a-zA-Z-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
              "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
              "del": "strikethrough", "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link",
              "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji"}
_INLINE_ACTIONS = {"callback_data", "url", "login_url", "switch_inline_query", "web_app",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "callback_game", "pay", "copy_text"}
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                "upload_voice", "upload_document", "choose_sticker", "find_location",
                "record_video_note", "upload_video_note"}
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """A Telegram error response: HTTP status and the ``description`` Telegram would send."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Telegram measures text and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(src: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-HTML into plain text and entities, with Telegram's error messages."""
    out: list[str] = []
    units = 0
    stack: list[tuple[str, int, JSON]] = []  # (tag, start offset in UTF-16 units, extra fields)
    entities: list[JSON] = []
    i = 0

    def error(what: str) -> ApiError:
        return bad(f"can't parse entities: {what} at byte offset {len(src[:i].encode())}")

    while i < len(src):
        char = src[i]
        if char == "&" and (m := _ENTITY_RE.match(src, i)):
            name = m.group(1)
            if name.startswith("#"):
                char = chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
            elif name in _NAMED_ENTITIES:
                char = _NAMED_ENTITIES[name]
            else:
                raise error(f'Unsupported HTML entity "&{name};"')
            i = m.end()
        elif char == "<" and src.startswith("</", i):
            m = _END_TAG_RE.match(src, i)
            if not m:
                raise error("Unclosed end tag")
            if not stack:
                raise error("Unexpected end tag")
            tag, start, extra = stack.pop()
            if m.group(1) and m.group(1).lower() != tag:
                raise bad(f"can't parse entities: Unmatched end tag at byte offset "
                          f'{len(src[:i].encode())}, expected "</{tag}>", found "</{m.group(1)}>"')
            if units > start:
                entities.append({"type": _HTML_TAGS[tag], "offset": start,
                                 "length": units - start, **extra})
            i = m.end()
            continue
        elif char == "<":
            m = _START_TAG_RE.match(src, i)
            if not m:
                raise error("Unclosed start tag")
            tag = m.group(1).lower().rstrip("/")
            attrs = {a.lower(): "".join(vals) for a, *vals in _ATTR_RE.findall(m.group(2))}
            if tag not in _HTML_TAGS:
                raise error(f'Unsupported start tag "{tag}"')
            if tag == "span" and attrs.get("class") != "tg-spoiler":
                raise error('Tag "span" must have class "tg-spoiler"')
            if tag == "a" and not attrs.get("href"):
                raise error('Tag "a" must have attribute href')
            if tag == "tg-emoji" and not attrs.get("emoji-id"):
                raise error('Tag "tg-emoji" must have attribute emoji-id')
            extra = ({"url": attrs["href"]} if tag == "a" else
                     {"custom_emoji_id": attrs["emoji-id"]} if tag == "tg-emoji" else {})
            stack.append((tag, units, extra))
            i = m.end()
            continue
        else:
            i += 1
        out.append(char)
        units += utf16_len(char)
    if stack:
        raise bad(f'can\'t parse entities: Can\'t find end tag corresponding to start tag '
                  f'"{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: e["offset"])


def check_text(params: JSON) -> tuple[str, list[JSON] | None]:
    """Validate message text (1..4096 UTF-16 units after entity parsing)."""
    raw = params.get("text")
    if not isinstance(raw, str) or not raw.strip():
        raise bad("message text is empty")
    mode = params.get("parse_mode")
    if mode is None or mode == "":
        text, entities = raw, params.get("entities")
    elif str(mode).lower() == "html":
        text, entities = parse_html(raw)
    elif str(mode).lower() in ("markdown", "markdownv2"):
        raise bad(f"fake Bot API does not parse {mode}; use parse_mode HTML")
    else:
        raise bad("unsupported parse_mode")
    if not text.strip():
        raise bad("message text is empty")
    if utf16_len(text) > 4096:
        raise bad("message is too long")
    return text, entities or None


def check_markup(markup: Any, inline_only: bool = False) -> JSON | None:
    """Validate a reply_markup object the way Telegram does; return it unchanged."""
    if markup is None:
        return None
    invalid = bad("can't parse reply keyboard markup JSON object")
    if not isinstance(markup, dict):
        raise invalid
    if inline_only and "inline_keyboard" not in markup:
        raise bad("inline keyboard expected")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise invalid
        if sum(len(r) for r in rows) > 100:
            raise bad("reply markup is too long")
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad("can't parse inline keyboard button: Text must be a String")
            actions = _INLINE_ACTIONS & button.keys()
            if not actions:
                raise bad("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad("can't parse inline keyboard button: exactly one action is allowed")
            if "callback_data" in button and not (
                isinstance(button["callback_data"], str)
                and 1 <= len(button["callback_data"].encode()) <= 64
            ):
                raise bad("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
                raise bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not rows or not all(isinstance(r, list) for r in rows):
            raise bad("keyboard must be non-empty")
        for button in itertools.chain.from_iterable(rows):
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise bad("can't parse keyboard button: text must be non-empty")
        if len(markup.get("input_field_placeholder") or "") > 64:
            raise bad("input field placeholder is too long")
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise invalid
    return markup


def inline_buttons(message: JSON) -> list[tuple[str, str | None]]:
    """``(text, callback_data)`` of every inline button of a message (``None`` for URL buttons)."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data")) for b in itertools.chain.from_iterable(rows)]


def reply_buttons(message: JSON) -> list[JSON]:
    """Buttons of a message's reply keyboard, flattened, each as a dict with at least ``text``."""
    rows = (message.get("reply_markup") or {}).get("keyboard", [])
    return [b if isinstance(b, dict) else {"text": b} for b in itertools.chain.from_iterable(rows)]
