"""What admins do to the directory, as plain functions: list, show, add, update, remove, stats.

Add and update take an HSDS service object (from a JSON or YAML snippet, or built from
command-line flags); they are validated like an import and audited.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services_directory import audit, hsds, store
from services_directory.importer import Problem, validator
from services_directory.index import search_index
from services_directory.needs import NEEDS
from services_directory.places import gazetteer


class AdminError(Exception):
    """A change that cannot be made (one line for the admin); nothing was written."""


def list_services(engine: Engine) -> list[dict[str, Any]]:
    service, index = hsds.TABLES["service"], search_index
    with engine.connect() as connection:
        places = dict(connection.execute(
            select(index.c.service_id, func.count()).group_by(index.c.service_id)).all())
        needs = dict(connection.execute(select(index.c.service_id, index.c.needs)).all())
        rows = connection.execute(select(service.c.id, service.c.name, service.c.status,
                                         service.c.last_modified).order_by(service.c.id))
        return [{"service_id": r.id, "name": r.name, "status": r.status,
                 "needs": [n for n in (needs.get(r.id) or "").split(",") if n],
                 "findable_places": places.get(r.id, 0),
                 "last_verified": (r.last_modified or "")[:10] or None} for r in rows]


def show_service(engine: Engine, service_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        services = hsds.assemble_services(store.load_graph(connection, [service_id]))
    if not services:
        raise AdminError(f"no service with id {service_id}")
    return services[0]


def _validate(service: dict[str, Any]) -> None:
    errors = list(validator("service").iter_errors(service))
    if errors:
        first = errors[0]
        where = "/".join(map(str, first.path)) or "(object)"
        raise AdminError(str(Problem(f"service {service.get('id')}", f"{where}: {first.message}"))
                         + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))


def _save(engine: Engine, service: dict[str, Any], action: str) -> list[str]:
    _validate(service)
    rows = hsds.flatten(service)
    gazetteer()  # loads in seconds the first time: not while holding the database's write lock
    with engine.begin() as connection:
        store.upsert(connection, rows)
        store.drop_missing_children(connection, service)
        warnings = store.reindex(connection, [service["id"]])
        audit.record(connection, action, "service", [service["id"]])
    return warnings


def add_service(engine: Engine, service: dict[str, Any]) -> tuple[str, list[str]]:
    service = {"status": "active", **service}
    service.setdefault("id", str(uuid.uuid4()))
    service.setdefault("last_modified", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    with engine.connect() as connection:
        exists = connection.execute(select(hsds.TABLES["service"].c.id).where(
            hsds.TABLES["service"].c.id == service["id"])).first()
    if exists:
        raise AdminError(f"a service with id {service['id']} exists; use update")
    return service["id"], _save(engine, service, "add")


def update_service(engine: Engine, service_id: str, changes: dict[str, Any]) -> list[str]:
    """Fields given replace those stored; lists given replace the stored lists."""
    current = show_service(engine, service_id)
    if changes.get("id", service_id) != service_id:
        raise AdminError("the id of a service cannot change")
    merged = {**current, **changes, "id": service_id,
              "last_modified": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return _save(engine, merged, "update")


def remove_service(engine: Engine, service_id: str) -> None:
    with engine.begin() as connection:
        if not store.remove_service(connection, service_id):
            raise AdminError(f"no service with id {service_id}")
        audit.record(connection, "remove", "service", [service_id])


def need_attribute(service_id: str, need: str) -> dict[str, Any]:
    if need not in NEEDS and need != "confidential":
        raise AdminError(f"unknown need {need!r}; needs are: {', '.join(NEEDS)}")
    return {"id": str(uuid.uuid4()), "link_id": service_id, "link_type": "need",
            "link_entity": "service", "value": need,
            "taxonomy_term": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"passage:{need}")),
                              "code": need, "name": need.replace("_", " ").capitalize(),
                              "description": f"Passage need: {need}", "taxonomy": "passage"}}


def service_from_flags(name: str, organization: str, needs: list[str], phone: str | None,
                       latitude: float | None, longitude: float | None, address: str | None,
                       city: str | None, country: str | None, confidential: bool,
                       languages: list[str]) -> dict[str, Any]:
    """A complete HSDS service object from the few facts an admin types."""
    service_id = str(uuid.uuid4())
    service: dict[str, Any] = {
        "id": service_id, "name": name, "status": "active",
        "organization": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"org:{organization}")),
                         "name": organization, "description": organization},
        "attributes": [need_attribute(service_id, n) for n in needs],
        "languages": [{"id": str(uuid.uuid4()), "code": code} for code in languages],
    }
    if phone:
        service["phones"] = [{"id": str(uuid.uuid4()), "number": phone}]
    if latitude is not None and longitude is not None:
        location_id = str(uuid.uuid4())
        location: dict[str, Any] = {"id": location_id, "location_type": "physical",
                                    "latitude": latitude, "longitude": longitude,
                                    "confidential": confidential}
        if address and city and country:
            location["addresses"] = [{"id": str(uuid.uuid4()), "address_1": address,
                                      "city": city, "state_province": "", "postal_code": "",
                                      "country": country, "address_type": "physical"}]
        service["service_at_locations"] = [{"id": str(uuid.uuid4()), "location": location}]
    return service


def stats(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        counts = {entity: connection.execute(
            select(func.count()).select_from(table)).scalar_one()
            for entity, table in hsds.TABLES.items()}
        index_rows = connection.execute(select(search_index.c.needs, search_index.c.confidential,
                                               search_index.c.phone_line)).all()
        indexed = connection.execute(
            select(func.count(func.distinct(search_index.c.service_id)))).scalar_one()
    needs = Counter(n for row in index_rows for n in row.needs.split(",") if n)
    return {
        "records": {entity: count for entity, count in counts.items() if count},
        "services": counts["service"],
        "findable_services": indexed,
        "places": len(index_rows),
        "confidential_places": sum(1 for row in index_rows if row.confidential),
        "phone_lines": sum(1 for row in index_rows if row.phone_line),
        "places_by_need": {need: needs.get(need, 0) for need in NEEDS},
    }
