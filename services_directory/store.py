"""Reading and writing HSDS rows, and keeping the search index in step with them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

from sqlalchemy import Table, delete, literal, select
from sqlalchemy.engine import Connection

from services_directory import audit, hsds, index
from services_directory.bulk import insert_rows
from services_directory.hsds import TABLES, Row, RowIndex, children_of

ALL_METADATA = [hsds.metadata, index.metadata, audit.metadata]
DIRECTORY_TABLES = [*TABLES.values(), index.search_index]
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


def _number(value: Any) -> float | None:
    return None if value == "" else float(value)


def _boolean(value: Any) -> Any:
    if value == "":
        return None
    return value.strip().lower() in ("true", "1", "yes") if isinstance(value, str) else value


def _text(value: Any) -> str | None:
    return None if value == "" else value if isinstance(value, str) else str(value)


def _text_kept_empty(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


@cache
def _columns(entity: str) -> list[tuple[str, Callable[[Any], Any]]]:
    """(name, how a value given for it is written) of each of the table's columns: HSDS
    numbers and booleans as such, an empty text as None, unless the column is a required
    text (HSDS allows "" there: it stays, so the row validates)."""
    kinds = {"number": _number, "integer": _number, "boolean": _boolean}
    return [(f["name"], kinds.get(f["type"]) or (
        _text_kept_empty if (f.get("constraints") or {}).get("required") and f["type"] == "string"
        else _text)) for f in hsds.descriptor()[entity]]


def _typed(entity: str, row: Row) -> Row:
    """All of the table's columns, typed (see `_columns`)."""
    return {name: None if (value := row.get(name)) is None else write(value)
            for name, write in _columns(entity)}


def is_empty(connection: Connection, table: Table) -> bool:
    return connection.execute(select(literal(1)).select_from(table).limit(1)).first() is None


def directory_is_empty(connection: Connection) -> bool:
    """No HSDS row and no index entry: what an import writes is then all there is."""
    return all(is_empty(connection, table) for table in DIRECTORY_TABLES)


def upsert(connection: Connection, rows_by_entity: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Same id: replaced (the later of duplicates wins). New id: added. Returns the rows as
    written, typed like the table's columns read back."""
    written: dict[str, list[Row]] = {}
    for entity, rows in rows_by_entity.items():
        table = TABLES[entity]
        typed: dict[str, Row] = {}
        for row in rows:
            typed.pop(str(row["id"]), None)  # a later duplicate takes the later place
            typed[str(row["id"])] = _typed(entity, row)
        written[entity] = list(typed.values())
        replacing = not is_empty(connection, table)
        for batch in chunks(written[entity]):
            if replacing:
                connection.execute(delete(table).where(table.c.id.in_([r["id"] for r in batch])))
            insert_rows(connection, table, batch)
    return written


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


def drop_missing_children_in(rows_by_entity: dict[str, list[Row]],
                             services: list[dict[str, Any]]) -> None:
    """`drop_missing_children` on rows in memory."""
    for prop, (child, column) in children_of("service").items():
        keep = {str(s["id"]): {str(item["id"]) for item in s.get(prop) or []
                               if isinstance(item, dict) and item.get("id")}
                for s in services if prop in s}
        if not keep or child not in rows_by_entity:
            continue
        rows_by_entity[child] = [
            r for r in rows_by_entity[child]
            if r.get(column) is None or str(r[column]) not in keep
            or str(r["id"]) in keep[str(r[column])]
            or (child == "attribute" and r.get("link_entity") != "service")]


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


def _index_entries(services: Iterable[dict[str, Any]]) -> tuple[list[Row], list[str]]:
    """Search index rows of nested service objects, and warnings for unfindable places."""
    entries: list[Row] = []
    warnings: list[str] = []
    for service in services:
        found, problems = index.entries_for(service)
        entries.extend(found)
        warnings.extend(problems)
    return entries, warnings


def reindex(connection: Connection, service_ids: Iterable[str]) -> list[str]:
    """Rebuild the search index rows of these services; warnings for unfindable places."""
    warnings: list[str] = []
    for batch in chunks(service_ids):
        connection.execute(delete(index.search_index).where(
            index.search_index.c.service_id.in_(batch)))
        entries, problems = _index_entries(
            hsds.assemble_services(load_graph(connection, batch)))
        insert_rows(connection, index.search_index, entries)
        warnings.extend(problems)
    return warnings


def index_from_rows(connection: Connection, graph: RowIndex,
                    progress: Callable[[int], None] | None = None) -> list[str]:
    """Index every service of `graph` — the whole directory, already in memory — without
    reading back what was just written. Same entries, in the same order, as `reindex`."""
    warnings: list[str] = []
    services = graph.by_id.get("service", {})
    done = 0
    for batch in chunks(sorted(services)):
        entries, problems = _index_entries(
            hsds.assemble(graph, "service", services[service_id]) for service_id in batch)
        insert_rows(connection, index.search_index, entries)
        warnings.extend(problems)
        done += len(batch)
        if progress:
            progress(done)
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
