"""The `passage` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from bot.errors import UsageError
from bot.logging_setup import configure_logging

if TYPE_CHECKING:
    from bot.conversation import Passage
    from bot.settings import Settings


def _near(value: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = value.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected LAT,LON such as 40.4168,-3.7038") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError("latitude must be -90..90 and longitude -180..180")
    return lat, lon


def cmd_run(args: argparse.Namespace) -> None:
    from bot.bootstrap import build_passage, open_storage
    from bot.settings import Settings
    from bot.training import check_model_hash
    from bot.workers import supervise, workers_sharing

    settings = Settings.from_env()
    if not settings.telegram_token:
        raise UsageError("TELEGRAM_BOT_TOKEN is not set (ask @BotFather for a token)")
    if args.workers > 1:
        if not settings.webhook_url:
            raise UsageError("--workers needs webhook mode: set PASSAGE_WEBHOOK_URL "
                             "(and PASSAGE_LISTEN)")
        if not settings.redis_url:
            raise UsageError("several workers share conversations through Redis: "
                             "set PASSAGE_REDIS_URL")
        open_storage(settings)  # migrations once, before the workers race to them
        check_model_hash(settings.model_path)  # one line here, not a failing start per worker
        raise SystemExit(supervise(args.workers))
    _serve(settings, build_passage(settings), workers_sharing())


def _serve(settings: Settings, passage: Passage, workers: int) -> None:
    """Long polling, or with PASSAGE_WEBHOOK_URL a webhook server on PASSAGE_LISTEN."""
    from telegram.error import TelegramError

    from bot.telegram_app import ALLOWED_UPDATES, build_application
    from bot.workers import listening_socket, spread_every_request

    application = build_application(passage, settings.telegram_token, settings.telegram_base_url,
                                    settings.redis_url, settings.send_rate / workers)
    if not settings.webhook_url:
        print("Passage is running. Press Ctrl+C to stop.", flush=True)
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
        return
    host, port = settings.listen
    if workers > 1:
        spread_every_request()
    try:
        sock = listening_socket(host, port)
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port} (PASSAGE_LISTEN): "
                         f"{error.strerror}") from None
    print(f"Passage is running (webhook, listening on {host}:{port}). Press Ctrl+C to stop.",
          flush=True)
    try:
        application.run_webhook(unix=sock, webhook_url=settings.webhook_url,
                                url_path=urlsplit(settings.webhook_url).path,
                                secret_token=settings.webhook_secret,
                                allowed_updates=ALLOWED_UPDATES, bootstrap_retries=3)
    except TelegramError as error:
        raise UsageError(f"Telegram did not accept the webhook {settings.webhook_url}: "
                         f"{error.message}") from None


def cmd_chat(args: argparse.Namespace) -> None:
    from bot.bootstrap import build_passage
    from bot.settings import Settings
    from bot.terminal_chat import chat

    passage = build_passage(Settings.from_env(), with_desk=False)
    asyncio.run(chat(passage, args.language))


def cmd_train(args: argparse.Namespace) -> None:
    from bot.settings import Settings
    from bot.training import train_model

    out = args.out or Settings.from_env().model_path
    print(f"Model written to {train_model(out)}")


def cmd_purge(args: argparse.Namespace) -> None:
    """What the running bot does once a day; for a bot that is not running, or by cron."""
    from datetime import timedelta

    from bot.bootstrap import open_storage
    from bot.retention import Retention
    from bot.settings import Settings
    from bot.storage import utcnow

    settings = Settings.from_env()
    days = args.older_than_days or settings.retention_days
    if days <= 0:
        raise UsageError("--older-than-days must be more than 0")
    purged = Retention(open_storage(settings), timedelta(days=days)).purge_now(utcnow())
    print(f"Purged what was older than {days:g} days: {purged.conversations} conversations, "
          f"{purged.desk_messages} relayed messages and notes, {purged.profiles} profiles; "
          f"{purged.expired_cases} open cases without activity closed and emptied.")


def cmd_understand(args: argparse.Namespace) -> None:
    """One JSON line out per JSON line in; the model is loaded once for the whole batch."""
    import json

    from bot.settings import Settings

    settings = Settings.from_env()
    if not settings.model_path.is_file():
        raise UsageError(f"no trained model at {settings.model_path} (train one with "
                         "`passage train`)")
    source = sys.stdin if args.jsonl == "-" else _open_input(args.jsonl)
    from bot.engine import load_agent
    from bot.understanding import understand

    agent = load_agent(str(settings.model_path))

    async def run() -> None:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text, hint = str(item["text"]), item.get("language")
            except (json.JSONDecodeError, KeyError, TypeError):
                print(f"passage: line {number}: expected {{\"text\": ...}}", file=sys.stderr)
                continue
            print(json.dumps(await understand(agent, text, hint), ensure_ascii=False),
                  flush=True)

    asyncio.run(run())


def _open_input(path: str):  # noqa: ANN202 - a text file
    try:
        return open(path, encoding="utf-8")  # noqa: SIM115 - read until the process ends
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def _at_least_one(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {value!r}")
    return int(value)


class _Parser(argparse.ArgumentParser):
    """A mistake on the command line is one line, like every other error (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="passage", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the Telegram bot")
    run.add_argument("--workers", type=_at_least_one, default=1, metavar="N",
                     help="N worker processes (webhook mode and PASSAGE_REDIS_URL)")
    run.set_defaults(func=cmd_run)
    chat = commands.add_parser("chat", help="talk to Passage in this terminal")
    chat.add_argument("--language", help="like Telegram's language_code, e.g. es")
    chat.set_defaults(func=cmd_chat)
    train = commands.add_parser("train", help="train the dialogue model")
    train.add_argument("--out", help="model file (default: PASSAGE_MODEL)")
    train.set_defaults(func=cmd_train)
    understand = commands.add_parser("understand", help="intent, need and language per line")
    understand.add_argument("--jsonl", default="-", metavar="FILE",
                            help='lines of {"text": ..., "language": optional hint}; - = stdin')
    understand.set_defaults(func=cmd_understand)

    purge = commands.add_parser("purge", help="delete what is older than "
                                "PASSAGE_RETENTION_DAYS; close and empty idle cases")
    purge.add_argument("--older-than-days", type=float, metavar="DAYS",
                       help="this time only, a shorter period")
    purge.set_defaults(func=cmd_purge)
    _add_admin_commands(commands)
    from bot.cli_desk import add_commands

    add_commands(commands)
    return root


def _add_admin_commands(commands: argparse._SubParsersAction) -> None:
    from bot import cli_admin as admin

    keys = commands.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_command", required=True)
    keys.add_parser("init", help="create the key file").set_defaults(func=admin.keys_init)
    rotate = keys.add_parser("rotate", help="new master and data keys; re-encrypt everything")
    rotate.add_argument("--no-wait", action="store_true",
                        help="do not wait a minute for processes on other hosts to pick up the "
                             "new key: only when every process runs on this host (they notice "
                             "the new key file within a second)")
    rotate.set_defaults(func=admin.keys_rotate)

    directory = commands.add_parser("directory", help="the services directory").add_subparsers(
        dest="directory_command", required=True)
    importing = directory.add_parser("import", help="HSDS 3.0 JSON file or CSV package folder")
    importing.add_argument("path")
    importing.add_argument("--skip-invalid", action="store_true",
                           help="import the valid items even if some are invalid")
    importing.set_defaults(func=admin.directory_import)
    exporting = directory.add_parser("export", help="HSDS 3.0 JSON file or CSV package folder")
    exporting.add_argument("--format", choices=("json", "csv"), default="json")
    exporting.add_argument("--out", required=True, help="file (json) or folder (csv)")
    exporting.set_defaults(func=admin.directory_export)
    listing = directory.add_parser("list", help="every service")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=admin.directory_list)
    showing = directory.add_parser("show", help="one service as HSDS JSON")
    showing.add_argument("id")
    showing.set_defaults(func=admin.directory_show)
    adding = directory.add_parser("add", help="a service from a JSON/YAML snippet or flags")
    adding.add_argument("file", nargs="?", help="HSDS service object (JSON or YAML); - = stdin")
    adding.add_argument("--name")
    adding.add_argument("--organization")
    adding.add_argument("--need", action="append", help="repeat for several needs")
    adding.add_argument("--phone")
    adding.add_argument("--at", type=_near, metavar="LAT,LON")
    adding.add_argument("--address")
    adding.add_argument("--city")
    adding.add_argument("--country", help="ISO 3166-1 alpha-2, e.g. ES")
    adding.add_argument("--language", action="append", help="ISO 639-1; repeat")
    adding.add_argument("--confidential", action="store_true")
    adding.set_defaults(func=admin.directory_add)
    updating = directory.add_parser("update", help="change a service (snippet or flags)")
    updating.add_argument("id")
    updating.add_argument("file", nargs="?")
    for name in ("name", "status", "email", "url", "description"):
        updating.add_argument(f"--{name}")
    updating.set_defaults(func=admin.directory_update)
    removing = directory.add_parser("remove", help="remove a service")
    removing.add_argument("id")
    removing.set_defaults(func=admin.directory_remove)
    searching = directory.add_parser("search", help="services near a point or a city")
    searching.add_argument("--near", type=_near, metavar="LAT,LON")
    searching.add_argument("--city")
    searching.add_argument("--need")
    searching.add_argument("--language", action="append", help="ISO 639-1; repeat")
    searching.add_argument("--gender", choices=("female", "male"))
    searching.add_argument("--age", type=int)
    searching.add_argument("--free", action="store_true")
    searching.add_argument("--open-now", action="store_true")
    searching.add_argument("--accessible", action="store_true", help="wheelchair accessible")
    searching.add_argument("--limit", type=int, default=10)
    searching.add_argument("--json", action="store_true")
    searching.set_defaults(func=admin.directory_search)
    directory.add_parser("stats", help="counts").set_defaults(func=admin.directory_stats)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging()
    from encryption import KeyFileError
    from services_directory.admin import AdminError

    try:
        args.func(args)
    except (UsageError, KeyFileError, AdminError) as error:
        print(f"passage: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
