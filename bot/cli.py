"""The `passage` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

from bot.errors import UsageError
from bot.logging_setup import configure_logging


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
    from bot.bootstrap import build_passage
    from bot.settings import Settings
    from bot.telegram_app import ALLOWED_UPDATES, build_application

    settings = Settings.from_env()
    if not settings.telegram_token:
        raise UsageError("TELEGRAM_BOT_TOKEN is not set (ask @BotFather for a token)")
    passage = build_passage(settings)
    application = build_application(passage, settings.telegram_token, settings.telegram_base_url)
    print("Passage is running. Press Ctrl+C to stop.")
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


def cmd_chat(args: argparse.Namespace) -> None:
    from bot.bootstrap import build_passage
    from bot.settings import Settings
    from bot.terminal_chat import chat

    passage = build_passage(Settings.from_env())
    asyncio.run(chat(passage, args.language))


def cmd_train(args: argparse.Namespace) -> None:
    from bot.settings import Settings
    from bot.training import train_model

    out = args.out or Settings.from_env().model_path
    print(f"Model written to {train_model(out)}")


def cmd_keys_init(args: argparse.Namespace) -> None:
    from bot.settings import Settings
    from encryption import create_key_file

    path = Settings.from_env().key_file
    if create_key_file(path):
        print(f"Created key file {path} (readable only by you). Back it up somewhere safe.")
    else:
        print(f"Key file {path} already exists; left unchanged.")


def _directory_engine():  # noqa: ANN202 - an SQLAlchemy Engine
    from bot.settings import Settings
    from bot.storage import create_tables, make_engine

    engine = make_engine(Settings.from_env().database_url)
    create_tables(engine)
    return engine


def cmd_directory_import(args: argparse.Namespace) -> None:
    from services_directory.importer import ImportFileError, import_services

    try:
        report = import_services(_directory_engine(), args.path)
    except ImportFileError as error:
        raise UsageError(str(error)) from None
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Imported {report.services} services ({report.places} places).")


def cmd_directory_search(args: argparse.Namespace) -> None:
    from services_directory import Near, search
    from services_directory.search import NEEDS

    if args.need and args.need not in NEEDS:
        raise UsageError(f"unknown need {args.need!r}; needs are: {', '.join(NEEDS)}")
    matches = search(_directory_engine(), args.need, Near(*args.near), limit=args.limit)
    if args.json:
        print(json.dumps([asdict(m) for m in matches], ensure_ascii=False, indent=2))
        return
    for match in matches:
        where = "confidential" if match.confidential else f"{match.distance_km} km"
        print(f"{match.service_id}  {match.name}  ({where})  {match.phone or ''}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="passage", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve the Telegram bot").set_defaults(func=cmd_run)
    chat = commands.add_parser("chat", help="talk to Passage in this terminal")
    chat.add_argument("--language", help="like Telegram's language_code, e.g. es")
    chat.set_defaults(func=cmd_chat)
    train = commands.add_parser("train", help="train the dialogue model")
    train.add_argument("--out", help="model file (default: PASSAGE_MODEL)")
    train.set_defaults(func=cmd_train)

    keys = commands.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_command", required=True)
    keys.add_parser("init", help="create the key file").set_defaults(func=cmd_keys_init)

    directory = commands.add_parser("directory", help="the services directory").add_subparsers(
        dest="directory_command", required=True)
    importing = directory.add_parser("import", help="import HSDS 3.0 JSON services")
    importing.add_argument("path")
    importing.set_defaults(func=cmd_directory_import)
    searching = directory.add_parser("search", help="services near a point")
    searching.add_argument("--near", type=_near, required=True, metavar="LAT,LON")
    searching.add_argument("--need")
    searching.add_argument("--limit", type=int, default=10)
    searching.add_argument("--json", action="store_true")
    searching.set_defaults(func=cmd_directory_search)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging()
    from encryption import KeyFileError

    try:
        args.func(args)
    except (UsageError, KeyFileError) as error:
        print(f"passage: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
