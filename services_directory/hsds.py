"""HSDS 3.0 as tables, and the way between nested service objects and rows.

The tables are generated from the vendored HSDS CSV data package descriptor, so every HSDS
field round-trips with its HSDS name. Sensitive fields are encrypted columns (see ENCRYPTED).
`flatten` turns a nested HSDS service object into rows; `assemble` turns rows back into
nested service objects, the shape of HSDS's `service_full` example.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table, Text

from encryption.columns import EncryptedFloat, EncryptedText

SCHEMA_DIR = Path(__file__).parent / "hsds_schema"
TABLE_PREFIX = "hsds_"
Row = dict[str, Any]

# Fields encrypted at rest: every name, free text, address, phone, email, URL and exact
# coordinate (an organisation's name or website next to its confidential site's coarse cell
# gives the site away). Left plain, because nothing there names or places anyone: ids and the
# ids linking rows (what rows are read by), codes from fixed lists (status, types, taxonomy
# codes, language codes, country, currency, schedule rules), numbers, booleans (`confidential`)
# and dates. Search reads only its own index (services_directory/index.py), whose plain
# columns are needs, cells, languages and flags.
ENCRYPTED: dict[str, frozenset[str]] = {
    "organization": frozenset({"name", "alternate_name", "description", "email", "website",
                               "tax_status", "tax_id", "legal_status", "logo", "uri"}),
    "program": frozenset({"name", "alternate_name", "description"}),
    "service": frozenset({"name", "alternate_name", "description", "url", "email", "alert",
                          "application_process", "eligibility_description",
                          "interpretation_services", "assurer_email", "fees_description",
                          "wait_time", "fees", "accreditations", "licenses"}),
    "attribute": frozenset({"value"}),
    "location": frozenset({"name", "alternate_name", "description", "transportation", "url",
                           "latitude", "longitude", "external_identifier"}),
    "service_at_location": frozenset({"description"}),
    "address": frozenset({"attention", "address_1", "address_2", "city", "region",
                          "state_province", "postal_code"}),
    "phone": frozenset({"number", "extension", "description"}),
    "contact": frozenset({"name", "title", "department", "email"}),
    "accessibility": frozenset({"description", "details", "url"}),
    "schedule": frozenset({"description", "notes", "schedule_link"}),
    "funding": frozenset({"source"}),
    "service_area": frozenset({"name", "description", "extent", "uri"}),
    "required_document": frozenset({"document", "uri"}),
    "language": frozenset({"note"}),
    "taxonomy_term": frozenset({"name", "description", "taxonomy", "term_uri"}),
    "taxonomy": frozenset({"name", "description", "uri"}),
    "metadata": frozenset({"previous_value", "replacement_value", "updated_by"}),
    "cost_option": frozenset({"option", "amount_description"}),
    "organization_identifier": frozenset({"identifier"}),
}

# Nested arrays of each entity: property -> (child entity, the child's column pointing back).
_COMMON_CHILDREN = {"attributes": ("attribute", "link_id"), "metadata": ("metadata", "resource_id")}
CHILDREN: dict[str, dict[str, tuple[str, str]]] = {
    "service": {
        "phones": ("phone", "service_id"), "schedules": ("schedule", "service_id"),
        "service_areas": ("service_area", "service_id"),
        "service_at_locations": ("service_at_location", "service_id"),
        "languages": ("language", "service_id"), "funding": ("funding", "service_id"),
        "cost_options": ("cost_option", "service_id"),
        "required_documents": ("required_document", "service_id"),
        "contacts": ("contact", "service_id"),
    },
    "organization": {
        "phones": ("phone", "organization_id"), "contacts": ("contact", "organization_id"),
        "funding": ("funding", "organization_id"), "locations": ("location", "organization_id"),
        "programs": ("program", "organization_id"), "services": ("service", "organization_id"),
        "organization_identifiers": ("organization_identifier", "organization_id"),
    },
    "location": {
        "languages": ("language", "location_id"), "addresses": ("address", "location_id"),
        "contacts": ("contact", "location_id"), "accessibility": ("accessibility", "location_id"),
        "phones": ("phone", "location_id"), "schedules": ("schedule", "location_id"),
    },
    "service_at_location": {
        "contacts": ("contact", "service_at_location_id"),
        "phones": ("phone", "service_at_location_id"),
        "schedules": ("schedule", "service_at_location_id"),
    },
    "phone": {"languages": ("language", "phone_id")},
    "contact": {"phones": ("phone", "contact_id")},
}
# Nested single objects: property -> (entity, the parent's column holding its id).
PARENTS: dict[str, dict[str, tuple[str, str]]] = {
    "service": {"organization": ("organization", "organization_id"),
                "program": ("program", "program_id")},
    "service_at_location": {"location": ("location", "location_id"),
                            "service": ("service", "service_id")},
    "attribute": {"taxonomy_term": ("taxonomy_term", "taxonomy_term_id")},
    "taxonomy_term": {"taxonomy_detail": ("taxonomy", "taxonomy_id")},
}


# Passage's documented extension: HSDS has no standard field for a confidential place. A
# location is confidential when this field is true or when an attribute linked to it has
# the taxonomy term code "confidential".
EXTENSION_FIELDS: dict[str, list[dict[str, Any]]] = {
    "location": [{"name": "confidential", "type": "boolean",
                  "constraints": {"required": False}}],
}


@cache
def descriptor() -> dict[str, list[dict[str, Any]]]:
    """HSDS tabular fields per entity, from the CSV data package descriptor."""
    package = json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: r["schema"]["fields"] + EXTENSION_FIELDS.get(r["name"], [])
            for r in package["resources"]}


def table_name(entity: str) -> str:
    return TABLE_PREFIX + entity


def _column(entity: str, field: dict[str, Any]) -> Column:
    name = field["name"]
    context = f"{table_name(entity)}.{name}"
    if name == "id":
        return Column(name, String(64), primary_key=True)
    if name in ENCRYPTED.get(entity, ()):
        kind = EncryptedFloat if field["type"] == "number" else EncryptedText
        return Column(name, kind(context))
    if field["type"] in ("number", "integer"):
        return Column(name, Float)
    if field["type"] == "boolean":
        return Column(name, Boolean)
    return Column(name, Text, index=name.endswith("_id"))


metadata = MetaData()
TABLES: dict[str, Table] = {
    entity: Table(table_name(entity), metadata, *(_column(entity, f) for f in fields))
    for entity, fields in descriptor().items()
}


def fields(entity: str) -> list[str]:
    return [f["name"] for f in descriptor()[entity]]


def children_of(entity: str) -> dict[str, tuple[str, str]]:
    return {**CHILDREN.get(entity, {}), **_COMMON_CHILDREN}


def flatten(obj: dict[str, Any], entity: str = "service") -> dict[str, list[Row]]:
    """A nested HSDS object -> rows per entity (later duplicates win)."""
    rows: dict[str, dict[str, Row]] = defaultdict(dict)
    _flatten_into(rows, entity, obj, {})
    return {entity: list(by_id.values()) for entity, by_id in rows.items()}


def _flatten_into(rows: dict[str, dict[str, Row]], entity: str, obj: dict[str, Any],
                  links: Row) -> None:
    row = {name: obj.get(name) for name in fields(entity) if name in obj or name in links}
    row.update(links)
    for prop, (parent, column) in PARENTS.get(entity, {}).items():
        nested = obj.get(prop)
        if isinstance(nested, dict) and nested.get("id"):
            row[column] = nested["id"]
            _flatten_into(rows, parent, nested, {})
    rows[entity][str(obj["id"])] = row
    for prop, (child, column) in children_of(entity).items():
        for item in obj.get(prop) or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            link = {column: obj["id"]}
            if child == "attribute":
                link["link_entity"] = item.get("link_entity") or entity
            if child == "metadata":
                link["resource_type"] = item.get("resource_type") or entity
            _flatten_into(rows, child, item, link)


# What `assemble` nests in an object: (property, entity, column, rows by id) of nested objects,
# (property, entity, rows by parent id) of nested lists.
_Plan = tuple[list[tuple[str, str, str, dict[str, Row]]],
              list[tuple[str, str, dict[str, list[Row]]]]]


class RowIndex:
    """Rows of every entity, looked up by id or by a column pointing at a parent."""

    def __init__(self, rows: dict[str, Iterable[Row]]) -> None:
        self.by_id: dict[str, dict[str, Row]] = {
            entity: {str(r["id"]): r for r in entity_rows} for entity, entity_rows in rows.items()
        }
        self._by_link: dict[tuple[str, str], dict[str, list[Row]]] = {}
        self._plans: dict[str, _Plan] = {}

    def linked(self, entity: str, column: str) -> dict[str, list[Row]]:
        """Rows of `entity` grouped by the id in `column` (built once per index)."""
        key = (entity, column)
        if key not in self._by_link:
            grouped: dict[str, list[Row]] = defaultdict(list)
            for row in self.by_id.get(entity, {}).values():
                value = row.get(column)
                if value is not None:
                    grouped[value if isinstance(value, str) else str(value)].append(row)
            self._by_link[key] = grouped
        return self._by_link[key]

    def plan(self, entity: str) -> _Plan:
        """What `assemble` nests in an `entity` object, with the rows to look in: worked out
        once per index, not once per object."""
        if entity not in self._plans:  # with nothing to look in, there is nothing to nest
            self._plans[entity] = (
                [(prop, parent, column, self.by_id[parent])
                 for prop, (parent, column) in PARENTS.get(entity, {}).items()
                 # a service_at_location is shown inside its service
                 if (entity, prop) != ("service_at_location", "service")
                 and self.by_id.get(parent)],
                [(prop, child, by_parent)
                 for prop, (child, column) in children_of(entity).items()
                 # an organization's are nested under the service and its places instead
                 if not (entity == "organization" and prop in ("locations", "services"))
                 and (by_parent := self.linked(child, column))])
        return self._plans[entity]


def assemble(index: RowIndex, entity: str, row: Row) -> dict[str, Any]:
    """Rows -> a nested HSDS object for `row`, empty values left out."""
    obj = {name: _plain(value) if isinstance(value, float) else value
           for name, value in row.items() if value is not None}
    nested_objects, nested_lists = index.plan(entity)
    for prop, parent, column, rows_by_id in nested_objects:
        parent_row = rows_by_id.get(str(row.get(column)))
        if parent_row is not None:
            obj[prop] = assemble(index, parent, parent_row)
    row_id = str(row["id"])
    for prop, child, by_parent in nested_lists:
        linked = by_parent.get(row_id)
        if linked and child == "attribute":
            linked = [r for r in linked if r.get("link_entity") in (None, entity)]
        if linked:
            obj[prop] = [assemble(index, child, r) for r in linked]
    return obj


def _plain(value: float) -> float | int:
    """HSDS numbers that are whole (ages, extensions) read back as integers."""
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def assemble_services(index: RowIndex) -> list[dict[str, Any]]:
    return [assemble(index, "service", row) for row in index.by_id.get("service", {}).values()]
