"""`passage directory import`: HSDS 3.0 JSON or a CSV data package, validated, all or nothing.

Every problem is reported as `file:line: why`. A file with any invalid item imports nothing,
unless the admin asks to skip invalid items. The same ids update what is there.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy.engine import Connection, Engine

from services_directory import audit, hsds, store
from services_directory.bulk import import_cache, indexes_made_after
from services_directory.hsds import Row
from services_directory.places import gazetteer

ROOT_ENTITIES = ("service", "organization", "location", "service_at_location", "taxonomy",
                 "taxonomy_term")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")
PROGRESS_FROM = 1000  # items; smaller imports finish before a bar would help


class ImportFileError(Exception):
    """The file cannot be imported at all (one line for the admin)."""


@dataclass
class Problem:
    where: str  # "file:line"
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}"


@dataclass
class ImportReport:
    services: int = 0
    records: int = 0
    problems: list[Problem] = field(default_factory=list)  # invalid items
    warnings: list[str] = field(default_factory=list)  # valid, but not findable
    imported: bool = False


@cache
def validator(entity: str) -> jsonschema.protocols.Validator:
    schema = json.loads((hsds.SCHEMA_DIR / f"{entity}.json").read_text(encoding="utf-8"))
    resolver = jsonschema.RefResolver(base_uri=hsds.SCHEMA_DIR.as_uri() + "/", referrer=schema)
    return jsonschema.validators.validator_for(schema)(schema, resolver=resolver)


def entity_of(obj: dict[str, Any]) -> str | None:
    """Which HSDS object this is, from the fields only it has."""
    keys = set(obj)
    if keys & {"status", "service_at_locations"}:
        return "service"
    if keys & {"location", "service"} or {"service_id", "location_id"} <= keys:
        return "service_at_location"
    if "location_type" in keys:
        return "location"
    if keys & {"code", "parent_id", "taxonomy", "taxonomy_detail", "term_uri"}:
        return "taxonomy_term"
    if keys & {"website", "tax_status", "legal_status", "year_incorporated", "services",
               "programs", "organization_identifiers", "email"}:
        return "organization"
    if keys & {"version", "uri"}:
        return "taxonomy"
    if {"name", "description"} <= keys:
        return "organization"
    return None


def _line_of(text: str, object_id: str) -> int:
    position = text.find(json.dumps(object_id))
    return text.count("\n", 0, position) + 1 if position >= 0 else 1


def read_json(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[Problem]]:
    """(entity, object) pairs that are valid HSDS, and a problem for each one that is not."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ImportFileError(f"{path}: not valid JSON ({error})") from None
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    items = data if isinstance(data, list) else [data]
    valid, problems = [], []
    for position, item in enumerate(items):
        entity = entity_of(item) if isinstance(item, dict) else None
        if entity is None or not item.get("id"):
            problems.append(Problem(f"{path}:item {position + 1}",
                                    "not an HSDS service, organization, location or taxonomy "
                                    "object with an id"))
            continue
        where = f"{path}:{_line_of(text, str(item['id']))}"
        errors = sorted(validator(entity).iter_errors(item), key=lambda e: list(e.path))
        if errors:
            problems.extend(Problem(where, f"{entity} {item['id']}: "
                                    f"{'/'.join(map(str, e.path)) or '(object)'}: {e.message}")
                            for e in errors)
        else:
            valid.append((entity, item))
    if not items:
        raise ImportFileError(f"{path}: no HSDS objects in the file")
    return valid, problems


_BOOLEAN_WORDS = ("true", "false", "1", "0", "yes", "no")
CellCheck = Callable[[str], "str | None"]


def _cell_check(spec: dict[str, Any]) -> CellCheck | None:
    """What is wrong with a cell of this column (None: nothing); no check at all for a column
    where nothing can be wrong (most are free text)."""
    constraints = spec.get("constraints") or {}
    kind = spec.get("type")
    # An empty cell in a required text column is an empty text, which HSDS JSON allows.
    required = bool(constraints.get("required") and (spec["name"] == "id" or kind != "string"))
    enum = constraints.get("enum") or None
    is_uuid = spec.get("format") == "uuid"
    if not (kind in ("number", "integer", "boolean") or is_uuid or enum or required):
        return None

    def check(value: str) -> str | None:
        if value == "":
            return "required" if required else None
        if kind in ("number", "integer"):
            try:
                float(value)
            except ValueError:
                return f"not a number: {value!r}"
        if kind == "boolean" and value.strip().lower() not in _BOOLEAN_WORDS:
            return f"not true/false: {value!r}"
        if is_uuid and not _UUID.match(value):
            return f"not a UUID: {value!r}"
        if enum and value not in enum:
            return f"{value!r} is not one of {', '.join(enum)}"
        return None

    return check


def read_csv_package(folder: Path) -> tuple[dict[str, list[Row]], list[Problem]]:
    """Rows per entity from a CSV data package, and a problem for each invalid row."""
    descriptor_path = folder / "datapackage.json"
    try:
        package = json.loads(descriptor_path.read_text(encoding="utf-8"))
        resources = {r["name"]: r["path"] for r in package["resources"]}
    except FileNotFoundError:
        raise ImportFileError(f"{folder}: no datapackage.json (an HSDS CSV data package "
                              "folder has one)") from None
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ImportFileError(f"{descriptor_path}: not a data package descriptor ({error})"
                              ) from None
    rows: dict[str, list[Row]] = {}
    problems: list[Problem] = []
    for entity, relative in resources.items():
        csv_path = folder / relative
        if entity in hsds.TABLES and csv_path.exists():
            problems.extend(_read_csv(entity, csv_path, rows))
    return rows, problems


def _read_csv(entity: str, csv_path: Path, rows: dict[str, list[Row]]) -> list[Problem]:
    """Adds the file's valid rows to rows[entity]; a problem for each invalid row. Reads
    like csv.DictReader (blank lines skipped, a short row's missing cells None), faster."""
    specs = {f["name"]: f for f in hsds.descriptor()[entity]}
    problems: list[Problem] = []
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        missing = [n for n, s in specs.items()
                   if (s.get("constraints") or {}).get("required") and n not in header]
        if missing:
            return [Problem(f"{csv_path}:1", f"missing column(s) {', '.join(missing)}")]
        position = {name: at for at, name in enumerate(header)}  # a repeated name: the last
        kept = [(name, position[name]) for name in specs if name in position]
        checks = [(name, at, check) for name, at in kept
                  if (check := _cell_check(specs[name])) is not None]
        width = len(header)
        starts_on = reader.line_num + 1  # a row with quoted line breaks spans lines
        for values in reader:
            if not values:
                continue
            line, starts_on = starts_on, reader.line_num + 1
            cells: list[str | None] = (values if len(values) >= width
                                       else [*values, *[None] * (width - len(values))])
            bad = [f"{name}: {why}" for name, at, check in checks
                   if (why := check(cells[at] or ""))]
            if bad:
                problems.extend(Problem(f"{csv_path}:{line}", b) for b in bad)
                continue
            rows.setdefault(entity, []).append({name: cells[at] for name, at in kept})
    return problems


ProgressFactory = Callable[[int], "Callable[[int], None] | None"]


def import_path(engine: Engine, path: Path, skip_invalid: bool = False,
                progress: ProgressFactory | None = None) -> ImportReport:
    """Import a JSON file or a CSV data package folder. Nothing is written when any item is
    invalid, unless skip_invalid: then the valid items are imported and the rest reported."""
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"not found: {path}")
    report = ImportReport()
    if path.is_dir():
        rows_by_entity, report.problems = read_csv_package(path)
        objects = None
    else:
        objects, report.problems = read_json(path)
        rows_by_entity = _flatten_all(objects)
    if report.problems and not skip_invalid:
        return report
    report.records = sum(len(rows) for rows in rows_by_entity.values())
    _write(engine, rows_by_entity, objects, report, progress)
    report.imported = True
    return report


def _flatten_all(objects: list[tuple[str, dict[str, Any]]]) -> dict[str, list[Row]]:
    merged: dict[str, dict[str, Row]] = {}
    for entity, obj in objects:
        for child, rows in hsds.flatten(obj, entity).items():
            bucket = merged.setdefault(child, {})
            for row in rows:
                bucket[str(row["id"])] = row
    return {entity: list(rows.values()) for entity, rows in merged.items()}


def _write(engine: Engine, rows_by_entity: dict[str, list[Row]],
           objects: list[tuple[str, dict[str, Any]]] | None, report: ImportReport,
           progress_factory: ProgressFactory | None) -> None:
    gazetteer()  # loads in seconds the first time: not while holding the database's write lock
    with engine.begin() as connection, import_cache(connection):
        if store.directory_is_empty(connection):  # what is in memory is the whole directory
            with indexes_made_after(connection, store.DIRECTORY_TABLES):
                _write_first(connection, rows_by_entity, objects, report, progress_factory)
        else:
            store.upsert(connection, rows_by_entity)
            for service in _services(objects):
                store.drop_missing_children(connection, service)
            _reindex_touched(connection, rows_by_entity, report, progress_factory)
        report.services = len({str(r["id"]) for r in rows_by_entity.get("service", [])})
        for entity, rows in rows_by_entity.items():
            audit.record(connection, "import", entity, [str(r["id"]) for r in rows])


def _services(objects: list[tuple[str, dict[str, Any]]] | None) -> list[dict[str, Any]]:
    return [obj for entity, obj in objects or [] if entity == "service"]


def _write_first(connection: Connection, rows_by_entity: dict[str, list[Row]],
                 objects: list[tuple[str, dict[str, Any]]] | None, report: ImportReport,
                 progress_factory: ProgressFactory | None) -> None:
    """Into an empty directory: the search index is built from the rows in memory, without
    reading back what was just written."""
    written = store.upsert(connection, rows_by_entity)
    services = _services(objects)
    for service in services:
        store.drop_missing_children(connection, service)
    store.drop_missing_children_in(written, services)
    total = len(written.get("service", []))
    progress = progress_factory(total) if progress_factory else None
    report.warnings.extend(store.index_from_rows(connection, hsds.RowIndex(written), progress))


def _reindex_touched(connection: Connection, rows_by_entity: dict[str, list[Row]],
                     report: ImportReport, progress_factory: ProgressFactory | None) -> None:
    """A partial update: the index entries of every service it may change, from the database."""
    touched = store.service_ids_touching(rows_by_entity, connection)
    progress = progress_factory(len(touched)) if progress_factory else None
    done = 0
    for batch in store.chunks(sorted(touched)):
        report.warnings.extend(store.reindex(connection, batch))
        done += len(batch)
        if progress:
            progress(done)


def terminal_progress(total: int) -> Callable[[int], None] | None:
    """A progress bar on stderr for large imports at a terminal."""
    if total < PROGRESS_FROM or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="services", file=sys.stderr)

    def advance(done: int) -> None:
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return advance

