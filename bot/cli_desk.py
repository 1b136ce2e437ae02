"""`passage caseworkers add/list/remove`: the desk's roster, kept by admins."""

from __future__ import annotations

import argparse
import json

from bot.errors import UsageError
from bot.settings import Settings


def _user_id(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(
            "expected a numeric Telegram user id (the person can get it from @userinfobot)")
    return int(value)


def caseworkers_add(args: argparse.Namespace) -> None:
    from bot.bootstrap import open_storage
    from bot.desk import roster
    from bot.desk.config import DeskConfig

    settings = Settings.from_env()
    config = DeskConfig.load(settings.desk_config)
    known = [o.name for o in config.organizations]
    if args.org and known and args.org not in known:
        raise UsageError(f"--org {args.org!r} is not in {settings.desk_config} "
                         f"(known: {', '.join(known)})")
    member, created = roster.add(open_storage(settings), args.user_id, args.name,
                                 args.languages, args.org or (known[0] if known else None),
                                 args.role)
    verb = "Added" if created else "Updated"
    print(f"{verb} {member.name} (#{member.id}, {member.role}, {','.join(member.languages)}). "
          "They should now open the bot in Telegram and send /duty on.")


def caseworkers_list(args: argparse.Namespace) -> None:
    from bot.bootstrap import open_storage
    from bot.desk import roster

    members = roster.everyone(open_storage(Settings.from_env()))
    if args.json:
        print(json.dumps([{"id": m.id, "telegram_user_id": m.user_id, "name": m.name,
                           "languages": list(m.languages), "organization": m.organization,
                           "role": m.role, "on_duty": m.on_duty} for m in members],
                         ensure_ascii=False, indent=2))
        return
    if not members:
        print("No caseworkers yet: passage caseworkers add TELEGRAM_USER_ID --name NAME "
              "--languages en")
    for m in members:
        duty = "on duty" if m.on_duty else "off duty"
        print(f"#{m.id}  {m.user_id}  {m.name}  {m.role}  {','.join(m.languages)}  "
              f"{m.organization or '-'}  {duty}")


def caseworkers_remove(args: argparse.Namespace) -> None:
    from bot.bootstrap import open_storage
    from bot.desk import roster

    if not roster.remove(open_storage(Settings.from_env()), args.user_id):
        raise UsageError(f"{args.user_id} is not on the roster")
    print(f"Removed {args.user_id}. Their open cases went back to the queue.")


def add_commands(commands: argparse._SubParsersAction) -> None:
    desk = commands.add_parser("caseworkers", help="who works the handoff desk").add_subparsers(
        dest="caseworkers_command", required=True)
    adding = desk.add_parser("add", help="add someone to the roster (or change them)")
    adding.add_argument("user_id", type=_user_id, metavar="TELEGRAM_USER_ID")
    adding.add_argument("--name", required=True, help="shown to survivors and colleagues")
    adding.add_argument("--languages", required=True, help="e.g. es,en (routing order)")
    adding.add_argument("--org", help="their organisation, as named in desk.yml")
    adding.add_argument("--role", choices=("caseworker", "supervisor", "admin"),
                        default="caseworker")
    adding.set_defaults(func=caseworkers_add)
    listing = desk.add_parser("list", help="the roster")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=caseworkers_list)
    removing = desk.add_parser("remove", help="take someone off the roster")
    removing.add_argument("user_id", type=_user_id, metavar="TELEGRAM_USER_ID")
    removing.set_defaults(func=caseworkers_remove)
