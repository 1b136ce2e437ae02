"""`passage keys ...` and `passage directory ...`: thin wrappers over plain functions."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from bot.errors import UsageError
from bot.settings import Settings


def _engine():  # noqa: ANN202 - an SQLAlchemy Engine with the keys installed
    from bot.bootstrap import open_storage

    return open_storage(Settings.from_env())


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def keys_init(args: argparse.Namespace) -> None:
    from encryption import create_key_file

    path = Settings.from_env().key_file
    if create_key_file(path):
        print(f"Created key file {path} (readable only by you). Back it up somewhere safe.")
    else:
        print(f"Key file {path} already exists; left unchanged.")


def keys_rotate(args: argparse.Namespace) -> None:
    from bot.storage import all_metadata, make_engine
    from encryption.keystore import RELOAD_SECONDS, rotate

    settings = Settings.from_env()
    engine = _engine()  # checks the key fits before anything changes
    wait = 0 if args.no_wait else RELOAD_SECONDS
    report = rotate(settings.key_file, make_engine(settings.database_url), all_metadata(),
                    settle_seconds=wait, progress=lambda step: print(step, file=sys.stderr))
    engine.dispose()
    print(f"Rotated: new master key in {settings.key_file}, data key {report.new_key_id} "
          f"active, {report.reencrypted} values re-encrypted, old data keys deleted: "
          f"{', '.join(map(str, report.retired)) or 'none'}.")
    if report.still_used:  # written meanwhile by a process that had not reloaded the keys
        print(f"Data keys {', '.join(map(str, report.still_used))} are still in use: run "
              "`passage keys rotate` again later to retire them.", file=sys.stderr)


class _SnippetLoader(yaml.SafeLoader):
    """YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60); opening hours must stay
    text. Only plain decimal integers are integers here."""


_SnippetLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SnippetLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9]*)$"), list("-+0123456789"))


def _read_snippet(source: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_SnippetLoader)  # noqa: S506 - a safe loader; JSON is YAML
    except FileNotFoundError:
        raise UsageError(f"not found: {source}") from None
    except yaml.YAMLError as error:
        raise UsageError(f"{source}: not valid JSON or YAML ({error})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{source}: expected one HSDS service object")
    return json.loads(json.dumps(data, default=str))  # YAML dates become strings


def directory_import(args: argparse.Namespace) -> None:
    from services_directory.importer import ImportFileError, import_path, terminal_progress

    engine = _engine()
    try:
        report = import_path(engine, Path(args.path), skip_invalid=args.skip_invalid,
                             progress=terminal_progress)
    except ImportFileError as error:
        raise UsageError(str(error)) from None
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not report.imported:
        raise UsageError(f"{len(report.problems)} problem(s) found; nothing imported "
                         "(fix them, or import the valid items with --skip-invalid)")
    skipped = f", {len(report.problems)} invalid item(s) skipped" if report.problems else ""
    print(f"Imported {report.services} services ({report.records} records){skipped}.")


def directory_export(args: argparse.Namespace) -> None:
    from services_directory.export import export_csv, export_json

    engine = _engine()
    if args.format == "csv":
        print(f"Exported {export_csv(engine, Path(args.out))} rows to {args.out}/ (HSDS CSV).")
    else:
        print(f"Exported {export_json(engine, Path(args.out))} services to {args.out}.")


def directory_list(args: argparse.Namespace) -> None:
    from services_directory.admin import list_services

    services = list_services(_engine())
    if args.json:
        _print_json(services)
        return
    for s in services:
        print(f"{s['service_id']}  {s['name']}  [{', '.join(s['needs'])}]  "
              f"places: {s['findable_places']}  verified: {s['last_verified'] or '-'}")


def directory_show(args: argparse.Namespace) -> None:
    from services_directory.admin import show_service

    _print_json(show_service(_engine(), args.id))


def directory_add(args: argparse.Namespace) -> None:
    from services_directory.admin import add_service, service_from_flags

    if args.file:
        service = _read_snippet(args.file)
    elif args.name and args.organization and args.need:
        service = service_from_flags(
            args.name, args.organization, args.need, args.phone,
            *(args.at if args.at else (None, None)), args.address, args.city, args.country,
            args.confidential, args.language or [])
    else:
        raise UsageError("give a JSON/YAML file (or - for stdin), or --name, --organization "
                         "and at least one --need")
    service_id, warnings = add_service(_engine(), service)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Added service {service_id}.")


def directory_update(args: argparse.Namespace) -> None:
    from services_directory.admin import update_service

    changes = _read_snippet(args.file) if args.file else {}
    for name in ("name", "status", "email", "url", "description"):
        if getattr(args, name, None):
            changes[name] = getattr(args, name)
    if not changes:
        raise UsageError("nothing to change: give a JSON/YAML file or fields such as --name")
    for warning in update_service(_engine(), args.id, changes):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Updated service {args.id}.")


def directory_remove(args: argparse.Namespace) -> None:
    from services_directory.admin import remove_service

    remove_service(_engine(), args.id)
    print(f"Removed service {args.id}.")


def directory_search(args: argparse.Namespace) -> None:
    from services_directory import Near, SearchFilters, search
    from services_directory.needs import NEEDS
    from services_directory.places import gazetteer

    if args.need and args.need not in NEEDS:
        raise UsageError(f"unknown need {args.need!r}; needs are: {', '.join(NEEDS)}")
    if args.near:
        near = Near(*args.near)
    elif args.city:
        place = gazetteer().lookup(args.city)
        if place is None:
            raise UsageError(f"unknown place {args.city!r}: try the city's name in English, "
                             "or give --near LAT,LON")
        near = Near(place.latitude, place.longitude)
    else:
        raise UsageError("say where: --near LAT,LON or --city NAME")
    filters = SearchFilters(languages=tuple(args.language or ()), gender=args.gender,
                            age=args.age, free=args.free, open_now=args.open_now,
                            accessible=args.accessible)
    matches = search(_engine(), args.need, near, filters, limit=args.limit)
    if args.json:
        _print_json([asdict(m) for m in matches])
        return
    for m in matches:
        where = ("confidential: call for location" if m.confidential
                 else "phone line" if m.phone_only else f"{m.distance_km} km")
        print(f"{m.service_id}  {m.name}  ({where})  {m.phone or ''}")


def directory_stats(args: argparse.Namespace) -> None:
    from services_directory.admin import stats

    _print_json(stats(_engine()))
