"""The fake Bot API's webhooks: setWebhook, deleteWebhook, getWebhookInfo and delivery.

A mixin of ``tests.fake_bot_api.FakeBotAPI``. While a webhook is set, every pending update is
POSTed as JSON to its URL (with ``X-Telegram-Bot-Api-Secret-Token`` when a secret is set) and
leaves the queue only after a 2xx answer; a failed delivery (refused, timed out, non-2xx) is
retried after a short backoff and shows in getWebhookInfo's ``last_error_*``.

Order and concurrency follow Telegram's Bot API server (``WebhookActor``): up to
``max_connections`` requests are in flight at once, ready updates go out in update_id order,
and updates of one *queue* go one at a time, in order, the next only after the previous was
acknowledged. As in Telegram, a chat's messages (new, edited, channel posts) share a queue and
a user's button taps have another: a tap and a message of the same chat may be in flight
together. ``webhook_ordering = "any"`` drops the queues, so any two updates (two messages of
one chat too) may overtake each other: the worst a bot could meet.

Deliberate differences from Telegram: Telegram needs an https URL, tests serve http on
127.0.0.1, so ``route_webhooks`` maps a public https prefix to a local http one, like a
TLS-terminating load balancer; the fake never connects anywhere else (an unrouted URL fails as
an unresolvable host and is retried). ``certificate`` is ignored, ``ip_address`` is only
checked, a method in the webhook's answer is not executed, updates never expire, and the
retry delay is short (``webhook_retry_delay``, doubling up to ``webhook_max_retry_delay``).
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import aiohttp

from tests.telegram_rules import JSON, bad

if TYPE_CHECKING:
    from tests.fake_bot_api import FakeBotAPI

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")
_PORTS = {None, 80, 88, 443, 8443}
_HOOK_KEYS = ("url", "secret_token", "max_connections", "ip_address")  # a change restarts delivery


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook, as the fake made it."""

    update_id: int
    url: str  # where it was sent (after routing)
    secret_token: str | None  # the header sent, if any
    started: float  # time.monotonic()
    finished: float | None = None  # None while in flight
    status: int | None = None  # the HTTP status answered, None if there was no answer
    error: str | None = None  # last_error_message this attempt caused, None if delivered

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookDelivering:
    """Mixed into FakeBotAPI: uses its ``_updates``, ``_is_allowed``, ``_notify`` (which wakes
    the dispatcher)..."""

    webhook_ordering: Literal["telegram", "any"] = "telegram"
    webhook_retry_delay = 0.2  # seconds before the first retry of an update; doubles per failure
    webhook_max_retry_delay = 1.0
    webhook_timeout = 10.0  # seconds a webhook has to answer

    def _init_webhooks(self) -> None:
        self.webhook: JSON = {"url": ""}
        self.deliveries: list[WebhookDelivery] = []
        self.peak_in_flight = 0  # most deliveries ever in flight at once
        self._routes: list[tuple[str, str]] = []
        self._in_flight: dict[int, tuple[asyncio.Task[None], WebhookDelivery]] = {}
        self._retry: dict[int, tuple[int, float]] = {}  # update_id -> (failures, not before)
        self._last_error: tuple[int, str] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._due: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- test-side API ---------------------------------------------------------------------
    def route_webhooks(self, public_base: str, local_base: str) -> None:
        """Deliver a webhook URL starting with ``public_base`` (``https://passage.example.org``)
        to ``local_base`` (``http://127.0.0.1:8443``) + the rest of the URL."""
        self._routes.append((public_base.rstrip("/"), local_base.rstrip("/")))

    @property
    def in_flight(self) -> list[WebhookDelivery]:
        """Deliveries sent and not yet answered."""
        return [record for _, record in self._in_flight.values()]

    # --- lifecycle (called by FakeBotAPI.start/stop) ----------------------------------------
    def _start_webhooks(self: FakeBotAPI) -> None:
        self._due = asyncio.Event()
        self._dispatcher = asyncio.create_task(self._dispatch_forever())

    def _wake_webhooks(self) -> None:
        """Something changed (an update, an answer, a setting): look again at what may go."""
        if self._due is not None:
            self._due.set()

    async def _stop_webhooks(self) -> None:
        tasks = [task for task, _ in self._in_flight.values()]
        if self._dispatcher is not None:
            tasks.append(self._dispatcher)
            self._dispatcher = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- delivery ----------------------------------------------------------------------------
    async def _dispatch_forever(self: FakeBotAPI) -> None:
        """Start every delivery that may start; sleep until an update, an answer or a retry.
        (No ``asyncio.wait_for`` here: on Python 3.10 it may swallow the cancel of stop().)"""
        assert self._due is not None
        while not self._closing:
            self._due.clear()
            wake_in = self._dispatch_ready()
            timer = None if wake_in is None else asyncio.get_running_loop().call_later(
                wake_in, self._due.set)
            try:
                await self._due.wait()
            finally:
                if timer is not None:
                    timer.cancel()

    def _dispatch_ready(self: FakeBotAPI) -> float | None:
        """Start the deliveries that may start now; seconds until a retry is due, if any."""
        if not self.webhook["url"] or self._closing:
            return None
        self._updates[:] = [u for u in self._updates if self._is_allowed(u)]  # never created
        now, wake_in = time.monotonic(), None
        busy = {self._queue_of(u) for u in self._updates if u["update_id"] in self._in_flight}
        for update in sorted(self._updates, key=lambda u: u["update_id"]):
            queue = self._queue_of(update)
            if queue in busy:  # its queue has an earlier update in flight or waiting for a retry
                continue
            if self.webhook_ordering == "telegram":
                busy.add(queue)
            _, not_before = self._retry.get(update["update_id"], (0, 0.0))
            if not_before > now:
                wait = not_before - now
                wake_in = wait if wake_in is None else min(wake_in, wait)
            elif len(self._in_flight) < self.webhook["max_connections"]:
                self._start_delivery(update)
        return wake_in

    def _queue_of(self, update: JSON) -> tuple[str, Any]:
        """Telegram's webhook queue: one per chat for messages, one per user for button taps."""
        if self.webhook_ordering == "any":
            return ("update", update["update_id"])
        kind = next(k for k in update if k != "update_id")
        body = update[kind]
        if kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            return ("chat", body["chat"]["id"])
        if kind == "callback_query":
            return ("user", body["from"]["id"])
        return ("update", update["update_id"])

    def _start_delivery(self, update: JSON) -> None:
        url, secret = self.webhook["url"], self.webhook.get("secret_token")
        record = WebhookDelivery(update["update_id"], self._routed(url), secret, time.monotonic())
        self.deliveries.append(record)
        task = asyncio.create_task(self._deliver(copy.deepcopy(update), record))
        self._in_flight[update["update_id"]] = (task, record)
        self.peak_in_flight = max(self.peak_in_flight, len(self._in_flight))

    def _routed(self, url: str) -> str:
        for public, local in self._routes:
            if url == public or url.startswith(public + "/") or url.startswith(public + "?"):
                return local + url[len(public):]
        return url

    async def _deliver(self: FakeBotAPI, update: JSON, record: WebhookDelivery) -> None:
        try:
            record.error = await self._post(update, record)
        except asyncio.CancelledError:
            record.error = "Delivery cancelled: webhook deleted or changed, or the fake stopped"
            raise
        finally:
            record.finished = time.monotonic()
            if self._in_flight.get(record.update_id, (None, None))[1] is record:
                del self._in_flight[record.update_id]
        update_id = record.update_id
        if record.error is None:
            self._retry.pop(update_id, None)
            self._updates[:] = [u for u in self._updates if u["update_id"] != update_id]
        else:
            failures = self._retry.get(update_id, (0, 0.0))[0] + 1
            delay = min(self.webhook_retry_delay * 2 ** (failures - 1),
                        self.webhook_max_retry_delay)
            self._retry[update_id] = (failures, time.monotonic() + delay)
            self._last_error = (self.now(), record.error)
        await self._notify()

    async def _post(self, update: JSON, record: WebhookDelivery) -> str | None:
        """POST the update; the error Telegram would record, or None when it was accepted."""
        if not record.url.startswith("http://"):  # unrouted: the fake goes nowhere else
            return "Failed to resolve host: Name or service not known"
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        if record.secret_token:
            headers[SECRET_HEADER] = record.secret_token
        try:
            async with self._session.post(
                record.url, data=json.dumps(update), headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                record.status = response.status
                await response.read()
                if record.ok:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except asyncio.TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError:
            return "Webhook connection closed"

    def _cancel_deliveries(self) -> None:
        for task, _ in self._in_flight.values():
            task.cancel()
        self._in_flight.clear()
        self._retry.clear()

    # --- Bot API methods ---------------------------------------------------------------------
    async def _m_setwebhook(self: FakeBotAPI, params: JSON) -> bool:
        url = str(params.get("url") or "")
        hook: JSON = {"url": url}
        if url:
            hook.update(_checked_webhook(url, params))
        if "allowed_updates" in params:  # like getUpdates': kept until changed, for both
            self._allowed_updates = set(params["allowed_updates"] or ()) or None
        if any(hook.get(k) != self.webhook.get(k) for k in _HOOK_KEYS):  # else "already set"
            self._cancel_deliveries()
            if hook["url"] != self.webhook["url"]:
                self._last_error = None
            self.webhook = hook
        if params.get("drop_pending_updates"):
            self._cancel_deliveries()
            self._updates.clear()
        return True

    async def _m_deletewebhook(self: FakeBotAPI, params: JSON) -> bool:
        return await self._m_setwebhook({"drop_pending_updates": params.get("drop_pending_updates"),
                                         "url": ""})

    async def _m_getwebhookinfo(self: FakeBotAPI, params: JSON) -> JSON:
        info: JSON = {"url": self.webhook["url"], "has_custom_certificate": False,
                      "pending_update_count": sum(map(self._is_allowed, self._updates))}
        if self.webhook["url"]:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
            if self._last_error:
                info["last_error_date"], info["last_error_message"] = self._last_error
        if self._allowed_updates:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info


def _checked_webhook(url: str, params: JSON) -> JSON:
    """The webhook's settings, checked with Telegram's wording; max_connections is clamped to
    1..100 as Telegram does."""
    if not url.startswith("https://"):
        raise bad("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad("invalid webhook URL specified") from None
    if not parts.hostname:
        raise bad("invalid webhook URL specified")
    if port not in _PORTS:
        raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = str(params.get("secret_token") or "")
    if len(secret) > 256:
        raise bad("secret token is too long")
    if not _SECRET_RE.match(secret):
        raise bad("secret token contains unallowed characters")
    ip_address = str(params.get("ip_address") or "")
    if ip_address:
        try:
            ipaddress.ip_address(ip_address)
        except ValueError:
            raise bad("bad webhook: Invalid IP address specified") from None
    max_connections = params.get("max_connections")
    max_connections = 40 if max_connections in (None, "") else int(max_connections)
    return {"secret_token": secret or None, "max_connections": min(max(max_connections, 1), 100),
            "ip_address": ip_address or None}
