"""Reading and writing HSDS rows, and keeping the search index in step with them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from services_directory import audit, hsds, index
from services_directory.hsds import TABLES, Row, RowIndex, children_of

ALL_METADATA = [hsds.metadata, index.metadata, audit.metadata]
_CHUNK = 500
# Tables hanging off a location, and the column pointing at it.
_LOCATION_CHILDREN = [(child, column) for child, column in hsds.CHILDREN["location"].values()]


def chunks(values: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _typed(entity: str, row: Row) -> Row:
    """All of the table's columns, with HSDS numbers and booleans as such."""
    out: Row = {}
    for field in hsds.descriptor()[entity]:
        value = row.get(field["name"])
        required = (field.get("constraints") or {}).get("required")
        if value == "" and not (required and field["type"] == "string"):
            value = None  # an empty required text (HSDS allows "") stays, so it validates
        if value is not None and field["type"] in ("number", "integer"):
            value = float(value)
        elif value is not None and field["type"] == "boolean" and isinstance(value, str):
            value = value.strip().lower() in ("true", "1", "yes")
        elif value is not None and field["type"] not in ("boolean",):
            value = value if isinstance(value, str) else str(value)
        out[field["name"]] = value
    return out


def upsert(connection: Connection, rows_by_entity: dict[str, list[Row]]) -> None:
    """Same id: replaced. New id: added."""
    for entity, rows in rows_by_entity.items():
        table = TABLES[entity]
        for batch in chunks(rows):
            connection.execute(delete(table).where(table.c.id.in_([r["id"] for r in batch])))
            connection.execute(insert(table), [_typed(entity, r) for r in batch])


def drop_missing_children(connection: Connection, service: dict[str, Any]) -> None:
    """For each collection a service object lists, remove what it no longer lists."""
    for prop, (child, column) in children_of("service").items():
        if prop not in service:
            continue
        table = TABLES[child]
        keep = [str(item["id"]) for item in service.get(prop) or [] if isinstance(item, dict)
                and item.get("id")]
        condition = [table.c[column] == service["id"], table.c.id.notin_(keep)]
        if child == "attribute":
            condition.append(table.c.link_entity == "service")
        connection.execute(delete(table).where(*condition))


def _select(connection: Connection, entity: str, column: str, values: Iterable[Any]) -> list[Row]:
    table = TABLES[entity]
    rows: list[Row] = []
    for batch in chunks({str(v) for v in values if v is not None}):
        rows.extend(dict(r._mapping) for r in connection.execute(
            select(table).where(table.c[column].in_(batch))))
    return rows


def load_graph(connection: Connection, service_ids: Iterable[str]) -> RowIndex:
    """Everything needed to assemble these services as nested HSDS objects."""
    rows: dict[str, list[Row]] = {}

    def add(entity: str, found: list[Row]) -> list[Row]:
        rows.setdefault(entity, []).extend(found)
        return found

    services = add("service", _select(connection, "service", "id", service_ids))
    ids = [s["id"] for s in services]
    for child, column in hsds.CHILDREN["service"].values():
        add(child, _select(connection, child, column, ids))
    links = rows.get("service_at_location", [])
    location_ids = [link["location_id"] for link in links]
    add("location", _select(connection, "location", "id", location_ids))
    for child, column in _LOCATION_CHILDREN:
        add(child, _select(connection, child, column, location_ids))
    for child, column in hsds.CHILDREN["service_at_location"].values():
        add(child, _select(connection, child, column, [link["id"] for link in links]))
    organization_ids = [s.get("organization_id") for s in services]
    add("organization", _select(connection, "organization", "id", organization_ids))
    add("phone", _select(connection, "phone", "organization_id", organization_ids))
    add("program", _select(connection, "program", "id", [s.get("program_id") for s in services]))
    attributes = add("attribute", _select(
        connection, "attribute", "link_id", ids + location_ids + organization_ids))
    terms = add("taxonomy_term", _select(
        connection, "taxonomy_term", "id", [a.get("taxonomy_term_id") for a in attributes]))
    add("taxonomy", _select(connection, "taxonomy", "id", [t.get("taxonomy_id") for t in terms]))
    return RowIndex(rows)


def reindex(connection: Connection, service_ids: Iterable[str]) -> list[str]:
    """Rebuild the search index rows of these services; warnings for unfindable places."""
    warnings: list[str] = []
    for batch in chunks(service_ids):
        connection.execute(delete(index.search_index).where(
            index.search_index.c.service_id.in_(batch)))
        graph = load_graph(connection, batch)
        entries = []
        for service in hsds.assemble_services(graph):
            found, problems = index.entries_for(service)
            entries.extend(found)
            warnings.extend(problems)
        if entries:
            connection.execute(insert(index.search_index), entries)
    return warnings


def remove_service(connection: Connection, service_id: str) -> bool:
    table = TABLES["service"]
    if connection.execute(select(table.c.id).where(table.c.id == service_id)).first() is None:
        return False
    for child, column in children_of("service").values():
        child_table = TABLES[child]
        connection.execute(delete(child_table).where(child_table.c[column] == service_id))
    connection.execute(delete(table).where(table.c.id == service_id))
    connection.execute(delete(index.search_index).where(
        index.search_index.c.service_id == service_id))
    return True


def service_ids_touching(rows_by_entity: dict[str, list[Row]], connection: Connection) -> set[str]:
    """Services whose index rows may change when these rows are written."""
    ids = {str(r["id"]) for r in rows_by_entity.get("service", [])}
    ids |= {str(r["service_id"]) for r in rows_by_entity.get("service_at_location", [])
            if r.get("service_id")}
    location_ids = {str(r["id"]) for r in rows_by_entity.get("location", [])}
    for child, column in _LOCATION_CHILDREN:
        location_ids |= {str(r[column]) for r in rows_by_entity.get(child, []) if r.get(column)}
    location_ids |= {str(r["link_id"]) for r in rows_by_entity.get("attribute", [])
                     if r.get("link_entity") == "location"}
    ids |= {str(r["link_id"]) for r in rows_by_entity.get("attribute", [])
            if r.get("link_entity") in (None, "service")}
    ids |= {r["service_id"] for r in _select(connection, "service_at_location", "location_id",
                                             location_ids)}
    organization_ids = {str(r["id"]) for r in rows_by_entity.get("organization", [])}
    ids |= {r["id"] for r in _select(connection, "service", "organization_id", organization_ids)}
    return ids
