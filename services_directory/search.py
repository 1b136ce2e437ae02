"""The directory's one door: nearby services for a need, ranked for a person in a hurry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services_directory.geo import distance_band, haversine_km, valid_coordinates
from services_directory.models import ServicePlace

NEEDS: tuple[str, ...] = (
    "shelter",
    "legal",
    "immigration",
    "medical",
    "counseling",
    "basic_needs",
    "work",
    "return_home",
    "hotline",
)
MAX_DISTANCE_KM = 100.0


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class SearchFilters:
    languages: tuple[str, ...] = ()  # any of these spoken by the provider


@dataclass(frozen=True)
class OpeningHours:
    days: tuple[int, ...]  # 0 = Monday
    opens: str  # "09:00"
    closes: str


@dataclass(frozen=True)
class ServiceMatch:
    service_id: str
    name: str
    organization: str
    needs: tuple[str, ...]
    confidential: bool
    distance_km: float | None  # None for confidential places and phone lines
    distance_band: tuple[float, float] | None  # shown instead of the exact distance
    phone: str | None
    address: str | None  # None for confidential places
    languages: tuple[str, ...]
    hours: tuple[OpeningHours, ...] = field(default=())
    last_verified: str | None = None
    phone_only: bool = False


def _to_match(row: ServicePlace, km: float | None) -> ServiceMatch:
    return ServiceMatch(
        service_id=row.service_id,
        name=row.name,
        organization=row.organization,
        needs=tuple(n for n in row.needs.split(",") if n),
        confidential=row.confidential,
        distance_km=None if row.confidential or km is None else round(km, 1),
        distance_band=None if km is None else distance_band(km),
        phone=row.phone,
        address=None if row.confidential else row.address,
        languages=tuple(code for code in row.languages.split(",") if code),
        hours=tuple(
            OpeningHours(tuple(h["days"]), h["opens"], h["closes"])
            for h in json.loads(row.schedules)
        ),
        last_verified=row.last_verified,
        phone_only=row.phone_line,
    )


def search(
    engine: Engine,
    need: str | None,
    near: Near,
    filters: SearchFilters | None = None,
    limit: int = 3,
) -> list[ServiceMatch]:
    """Places offering `need` within MAX_DISTANCE_KM of `near`, nearest first.

    Phone lines (no address) count as near when the area they serve is. Confidential places
    are ranked by their coarse position and never expose an exact distance or address.
    """
    filters = filters or SearchFilters()
    query = select(ServicePlace)
    if need:
        query = query.where(ServicePlace.needs.contains(f",{need},"))
    with Session(engine) as session:
        rows = session.execute(query).scalars().all()
    ranked: list[tuple[float, ServicePlace]] = []
    for row in rows:
        if not valid_coordinates(row.latitude, row.longitude):
            continue
        if filters.languages and not set(filters.languages) & set(row.languages.split(",")):
            continue
        km = haversine_km(near.latitude, near.longitude, row.latitude, row.longitude)
        if km <= MAX_DISTANCE_KM:
            ranked.append((km, row))
    ranked.sort(key=lambda pair: pair[0])
    return [
        _to_match(row, None if row.phone_line else km) for km, row in ranked[:limit]
    ]


def known_need(need: str | None) -> bool:
    return need in NEEDS
