"""Load HSDS 3.0 service objects (JSON) into the directory. Same ids update, never duplicate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services_directory.models import Base, ServicePlace
from services_directory.places import gazetteer
from services_directory.search import NEEDS

PASSAGE_TAXONOMY = "passage"
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class ImportFileError(Exception):
    """The file cannot be read as HSDS JSON (one line for the admin)."""


@dataclass
class ImportReport:
    services: int = 0
    places: int = 0
    warnings: list[str] = field(default_factory=list)


def read_services(path: Path) -> list[dict[str, Any]]:
    """A service object, a list of them, or the paginated {"contents": [...]} shape."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportFileError(f"file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ImportFileError(f"{path}: not valid JSON ({error})") from None
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(s, dict) and "id" in s for s in data):
        raise ImportFileError(f"{path}: expected HSDS service objects with an id")
    return data


def _codes(attributes: list[dict[str, Any]] | None) -> set[str]:
    return {
        (a.get("taxonomy_term") or {}).get("code", "")
        for a in attributes or []
        if (a.get("taxonomy_term") or {}).get("taxonomy", PASSAGE_TAXONOMY) == PASSAGE_TAXONOMY
    }


def _hours(schedules: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    hours = []
    for schedule in schedules or []:
        opens, closes = schedule.get("opens_at"), schedule.get("closes_at")
        if not opens or not closes:
            continue
        byday = (schedule.get("byday") or ",".join(_DAYS)).split(",")
        days = [_DAYS.index(day.strip()[-2:]) for day in byday if day.strip()[-2:] in _DAYS]
        hours.append({"days": days, "opens": opens[:5], "closes": closes[:5]})
    return hours


def _address(location: dict[str, Any]) -> tuple[str | None, str | None]:
    addresses = location.get("addresses") or []
    if not addresses:
        return None, None
    first = addresses[0]
    parts = [first.get(k) for k in ("address_1", "address_2", "city", "postal_code")]
    return ", ".join(p for p in parts if p), first.get("country")


def places_of(service: dict[str, Any], report: ImportReport) -> list[ServicePlace]:
    needs = sorted(_codes(service.get("attributes")) & set(NEEDS))
    if not needs:
        report.warnings.append(f"service {service['id']}: no need attribute, not findable")
    phones = service.get("phones") or []
    common = {
        "service_id": service["id"],
        "name": service.get("name") or "",
        "organization": (service.get("organization") or {}).get("name") or "",
        "needs": "," + ",".join(needs) + ",",
        "phone": phones[0].get("number", "").strip('"') if phones else None,
        "languages": ",".join(lang["code"] for lang in service.get("languages") or []
                              if lang.get("code")),
        "schedules": json.dumps(_hours(service.get("schedules"))),
        "last_verified": (service.get("last_modified") or "")[:10] or None,
    }
    rows = []
    for link in service.get("service_at_locations") or []:
        location = link.get("location") or {}
        address, country = _address(location)
        confidential = bool(location.get("confidential")) or "confidential" in _codes(
            location.get("attributes")
        )
        rows.append(ServicePlace(
            id=link["id"], latitude=location.get("latitude"), longitude=location.get("longitude"),
            confidential=confidential, phone_line=False, address=address, country=country,
            **common,
        ))
    if not rows:  # a phone line: findable near the areas it serves
        for area in service.get("service_areas") or []:
            place = gazetteer().lookup(area.get("name") or "")
            if place is None:
                report.warnings.append(
                    f"service {service['id']}: unknown area {area.get('name')!r}"
                )
                continue
            rows.append(ServicePlace(
                id=area["id"], latitude=place.latitude, longitude=place.longitude,
                confidential=False, phone_line=True, address=None, country=place.country,
                **common,
            ))
    return rows


def import_services(engine: Engine, path: Path) -> ImportReport:
    services = read_services(path)
    report = ImportReport()
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        for service in services:
            for row in places_of(service, report):
                session.merge(row)
                report.places += 1
            report.services += 1
    return report
