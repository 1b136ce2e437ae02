"""`passage directory export`: HSDS 3.0 JSON (nested services) or a CSV data package.

The CSV package holds every row of every table and round-trips exactly through import; the
JSON export holds every service with what hangs off it (the shape of HSDS `service_full`).
Exports are decrypted: they are as sensitive as the database and are written 0600.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from encryption.master_key import replace_private
from services_directory import hsds, store


def all_services(engine: Engine) -> list[dict[str, Any]]:
    table = hsds.TABLES["service"]
    with engine.connect() as connection:
        ids = [row.id for row in connection.execute(select(table.c.id).order_by(table.c.id))]
        services: list[dict[str, Any]] = []
        for batch in store.chunks(ids):
            services.extend(hsds.assemble_services(store.load_graph(connection, batch)))
    return services


def export_json(engine: Engine, path: Path) -> int:
    services = all_services(engine)
    replace_private(Path(path), json.dumps(services, ensure_ascii=False, indent=2) + "\n")
    return len(services)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def export_csv(engine: Engine, folder: Path) -> int:
    """One CSV per HSDS table and a datapackage.json; returns the number of rows."""
    folder = Path(folder)
    descriptor = json.loads((hsds.SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    total = 0
    with engine.connect() as connection:
        for resource in descriptor["resources"]:
            entity = resource["name"]
            fields = hsds.fields(entity)
            resource["schema"]["fields"] = hsds.descriptor()[entity]
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(fields)
            table = hsds.TABLES[entity]
            for row in connection.execute(select(table).order_by(table.c.id)):
                writer.writerow([_cell(row._mapping[name]) for name in fields])
                total += 1
            replace_private(folder / resource["path"], buffer.getvalue())
    replace_private(folder / "datapackage.json", json.dumps(descriptor, indent=2) + "\n")
    return total
