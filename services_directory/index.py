"""The search index: one row per place where a service can be reached, built from HSDS.

Candidate selection uses plaintext that reveals no place: an H3 cell of ~250 km², needs,
languages and eligibility flags. A place that is not confidential (its address is no secret)
also gets a fine cell of ~5 km², so that a dense city is searched a district at a time. Exact
coordinates and everything shown to people are encrypted; a confidential place is indexed at
its coarse cell's centre, never at its coordinates, and has no fine cell.
"""

from __future__ import annotations

import json
from typing import Any

import h3
from sqlalchemy import Boolean, Column, Float, Index, MetaData, String, Table, Text

from encryption.columns import EncryptedJSON, EncryptedText
from services_directory.geo import valid_coordinates
from services_directory.needs import attribute_codes, needs_of
from services_directory.places import gazetteer

CELL_RESOLUTION = 5
FINE_CELL_RESOLUTION = 7  # only for places that are not confidential
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ELIGIBILITY_CODES = {"women_only": "female", "men_only": "male"}
WHEELCHAIR_CODES = frozenset({"wheelchair_accessible", "wheelchair"})

metadata = MetaData()
search_index = Table(
    "directory_search_index", metadata,
    Column("id", String(80), primary_key=True),  # service_at_location id, or service:area
    Column("service_id", String(64), nullable=False, index=True),
    Column("cell", String(16), nullable=False, index=True),
    Column("cell_fine", String(16)),  # None: confidential, or a phone line
    Column("needs", String(200), nullable=False),  # ",shelter,legal,"
    Column("languages", String(200), nullable=False),  # ",en,es,"
    Column("confidential", Boolean, nullable=False),
    Column("phone_line", Boolean, nullable=False),
    Column("free", Boolean, nullable=False),
    Column("gender", String(10)),  # None: anyone; "female" / "male": only them
    Column("minimum_age", Float),
    Column("maximum_age", Float),
    Column("wheelchair", Boolean, nullable=False),
    Column("country", String(2)),
    Column("timezone", String(64), nullable=False),
    Column("hours", Text, nullable=False),  # JSON [{days, opens, closes}]
    Column("last_verified", String(10)),
    Column("coordinates", EncryptedText("directory_search_index.coordinates"), nullable=False),
    Column("display", EncryptedJSON("directory_search_index.display"), nullable=False),
    # Also finds the few places without a fine cell in coarse cells, without reading the rest.
    Index("ix_directory_search_index_cell_fine", "cell_fine", "cell"),
)


def _codes(values: list[dict[str, Any]] | None, key: str = "code") -> list[str]:
    return [str(v[key]).lower() for v in values or [] if v.get(key)]


def hours_of(schedules: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Weekly opening hours, simplified: [{"days": [0..6], "opens": "09:00", "closes": ...}]."""
    hours = []
    for schedule in schedules or []:
        opens, closes = schedule.get("opens_at"), schedule.get("closes_at")
        if not opens or not closes or (schedule.get("freq") or "WEEKLY").upper() != "WEEKLY":
            continue
        byday = str(schedule.get("byday") or ",".join(_DAYS)).upper().split(",")
        days = sorted({_DAYS.index(d.strip()[-2:]) for d in byday if d.strip()[-2:] in _DAYS})
        hours.append({"days": days, "opens": str(opens)[:5], "closes": str(closes)[:5]})
    return hours


def _first_phone(*owners: dict[str, Any] | None) -> str | None:
    for owner in owners:
        for phone in (owner or {}).get("phones") or []:
            if phone.get("number"):
                return str(phone["number"]).strip('"')
    return None


def _address_text(location: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(one-line address, city, country) of a location's first address."""
    for address in location.get("addresses") or []:
        parts = [address.get(k) for k in ("address_1", "address_2", "city", "postal_code")]
        line = ", ".join(str(p) for p in parts if p) or None
        return line, address.get("city"), (address.get("country") or "")[:2].upper() or None
    return None, None, None


def is_confidential(location: dict[str, Any]) -> bool:
    flag = location.get("confidential")
    if isinstance(flag, str):
        flag = flag.strip().lower() in ("true", "1", "yes")
    return bool(flag) or "confidential" in attribute_codes(location)


def _service_facts(service: dict[str, Any]) -> dict[str, Any]:
    codes = attribute_codes(service)
    genders = {ELIGIBILITY_CODES[c] for c in codes if c in ELIGIBILITY_CODES}
    free = "free" in codes or any(
        option.get("amount") in (0, 0.0, "0") for option in service.get("cost_options") or [])
    return {
        "service_id": service["id"],
        "needs": "," + ",".join(needs_of(service)) + ",",
        "free": free,
        "gender": genders.pop() if len(genders) == 1 else None,
        "minimum_age": service.get("minimum_age"),
        "maximum_age": service.get("maximum_age"),
        "last_verified": str(service.get("last_modified") or "")[:10] or None,
    }


def entries_for(service: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Index rows for a nested HSDS service object, and warnings for what cannot be found."""
    facts = _service_facts(service)
    organization = service.get("organization") or {}
    service_languages = _codes(service.get("languages"))
    rows, warnings = [], []
    for link in service.get("service_at_locations") or []:
        location = link.get("location") or {}
        lat, lon = location.get("latitude"), location.get("longitude")
        if not valid_coordinates(lat, lon):
            warnings.append(f"location {location.get('id')}: no usable coordinates "
                            f"({lat}, {lon}); it will not be found by distance")
            continue
        lat, lon = float(lat), float(lon)
        confidential = is_confidential(location)
        cell = h3.latlng_to_cell(lat, lon, CELL_RESOLUTION)
        near = gazetteer().nearest(lat, lon)
        address, city, country = _address_text(location)
        if confidential:
            lat, lon = h3.cell_to_latlng(cell)  # ranked by area only
        phone = (_first_phone(organization, service, link, location) if confidential
                 else _first_phone(link, location, service, organization))
        languages = service_languages + _codes(location.get("languages"))
        accessibility = " ".join(
            f"{a.get('description') or ''} {a.get('details') or ''}"
            for a in location.get("accessibility") or []).lower()
        rows.append({
            **facts,
            "id": link["id"],
            "cell": cell,
            "cell_fine": None if confidential else h3.latlng_to_cell(lat, lon,
                                                                     FINE_CELL_RESOLUTION),
            "languages": "," + ",".join(sorted(set(languages))) + ",",
            "confidential": confidential,
            "phone_line": False,
            "wheelchair": "wheelchair" in accessibility
            or bool(WHEELCHAIR_CODES & set(attribute_codes(location))),
            "country": country or (near.country if near else None),
            "timezone": near.timezone if near else "UTC",
            "hours": json.dumps(hours_of(link.get("schedules") or location.get("schedules")
                                         or service.get("schedules"))),
            "coordinates": f"{lat!r},{lon!r}",
            "display": {
                "name": service.get("name") or "",
                "organization": organization.get("name") or "",
                "phone": phone,
                "address": None if confidential else address,
                "area": city or (near.name if near else None),
            },
        })
    if not rows:
        rows = _phone_line_rows(service, facts, organization, service_languages, warnings)
    return rows, warnings


def _phone_line_rows(service: dict[str, Any], facts: dict[str, Any],
                     organization: dict[str, Any], languages: list[str],
                     warnings: list[str]) -> list[dict[str, Any]]:
    """A service without a place (a helpline) is found near the areas it serves."""
    rows = []
    for area in service.get("service_areas") or []:
        place = gazetteer().lookup(str(area.get("name") or ""))
        if place is None:
            warnings.append(f"service {service['id']}: service area {area.get('name')!r} is "
                            "not a place Passage knows")
            continue
        rows.append({
            **facts,
            "id": f"{service['id']}:{area['id']}",
            "cell": h3.latlng_to_cell(place.latitude, place.longitude, CELL_RESOLUTION),
            "cell_fine": None,
            "languages": "," + ",".join(sorted(set(languages))) + ",",
            "confidential": False, "phone_line": True, "wheelchair": False,
            "country": place.country, "timezone": place.timezone,
            "hours": json.dumps(hours_of(service.get("schedules"))),
            "coordinates": f"{place.latitude!r},{place.longitude!r}",
            "display": {"name": service.get("name") or "",
                        "organization": organization.get("name") or "",
                        "phone": _first_phone(service, organization), "address": None,
                        "area": place.name},
        })
    return rows
