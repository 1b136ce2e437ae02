"""The directory's one door: nearby services for a need, ranked for a person in a hurry.

Candidates come from H3 cells around the person (plaintext, coarse); only their encrypted
coordinates are decrypted, in memory, to rank them. First come counts that stop early: in a
small directory (WHOLE_DIRECTORY_ROWS candidates at most, anywhere) every candidate is read
at once, with no cells to send; where few lie within reach (IN_REACH_ROWS), those are.
Elsewhere rings widen until the answer is exact. In a dense city the coarse rings hold
thousands of rows, so first come the places without a fine cell (confidential ones, phone
lines) in the first coarse ring and, around them, a few km of fine cells (everything else):
that settles most answers with a fraction of the rows. When it does not, the coarse rings are
searched from the start. Every way gives the same answer: the search stops only once
everything that could be in it has been read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import h3
from sqlalchemy import Table, and_, bindparam, func, or_, select
from sqlalchemy.engine import Engine

from services_directory.geo import distance_band, haversine_km
from services_directory.index import CELL_RESOLUTION, FINE_CELL_RESOLUTION, search_index
from services_directory.needs import NEEDS, known_need

__all__ = ["NEEDS", "Near", "OpeningHours", "SearchFilters", "ServiceMatch", "known_need",
           "search"]

MAX_DISTANCE_KM = 100.0
RINGS = (2, 5, 10)  # grid distances searched in turn; the last one holds MAX_DISTANCE_KM
WHOLE_DIRECTORY_ROWS = 100  # no more candidates than this anywhere: read them all
IN_REACH_ROWS = 200  # no more candidates than this within reach: read them all
FINE_RINGS = (3, 5)  # grid distances of the fine cells searched first
_CELL_SPACING_KM = 14.8  # between neighbouring H3 resolution-5 cell centres


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class SearchFilters:
    languages: tuple[str, ...] = ()  # any of these spoken by the provider
    gender: str | None = None  # "female" / "male": leaves out places only for the other
    age: int | None = None
    free: bool = False
    open_now: bool = False
    accessible: bool = False  # wheelchair
    country: str | None = None


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
    open_now: bool | None = None  # None when the hours are unknown
    free: bool = False
    area: str | None = None  # coarse: the city or district


def _guaranteed_km(ring: int, resolution: int = CELL_RESOLUTION) -> float:
    """Everything closer than this lies inside the disk of `ring` cells (conservative).
    Each finer H3 resolution divides distances by √7."""
    scale = 7 ** ((resolution - CELL_RESOLUTION) / 2)
    return max(0.0, (0.8 * _CELL_SPACING_KM * ring - 17.0) / scale)


def is_open(hours: list[dict], tz: str, now: datetime) -> bool | None:
    if not hours:
        return None
    try:
        local = now.astimezone(ZoneInfo(tz))
    except (KeyError, ValueError):
        local = now.astimezone(timezone.utc)
    clock, today, yesterday = local.strftime("%H:%M"), local.weekday(), (local.weekday() - 1) % 7
    for h in hours:
        if h["opens"] <= h["closes"]:
            if today in h["days"] and h["opens"] <= clock <= h["closes"]:
                return True
        elif (today in h["days"] and clock >= h["opens"]) or (
                yesterday in h["days"] and clock <= h["closes"]):
            return True  # open past midnight
    return False


def _conditions(table: Table, need: str | None, filters: SearchFilters) -> list:
    c = table.c
    conditions = []
    if need:
        conditions.append(c.needs.contains(f",{need},"))
    if filters.languages:
        conditions.append(or_(*(c.languages.contains(f",{code},") for code in filters.languages)))
    if filters.gender:
        conditions.append(or_(c.gender.is_(None), c.gender == filters.gender))
    if filters.age is not None:
        conditions.append(and_(or_(c.minimum_age.is_(None), c.minimum_age <= filters.age),
                               or_(c.maximum_age.is_(None), c.maximum_age >= filters.age)))
    if filters.free:
        conditions.append(c.free.is_(True))
    if filters.accessible:
        conditions.append(c.wheelchair.is_(True))
    if filters.country:
        conditions.append(c.country == filters.country.upper())
    return conditions


def _days_since_verified(row) -> int:  # noqa: ANN001 - a Row
    try:
        return -date.fromisoformat(row.last_verified).toordinal()
    except (TypeError, ValueError):
        return 0


def _band_low(km: float) -> float:
    return (distance_band(km) or (MAX_DISTANCE_KM, MAX_DISTANCE_KM))[0]


class _OpenNow:
    """is_open per row, computed once per distinct (hours, time zone) in a search."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._known: dict[tuple[str, str], bool | None] = {}

    def __call__(self, row) -> bool | None:  # noqa: ANN001 - a Row
        key = (row.hours, row.timezone)
        if key not in self._known:
            self._known[key] = is_open(json.loads(row.hours), row.timezone, self.now)
        return self._known[key]


def _best(found: list[tuple], limit: int, open_now: _OpenNow) -> list[tuple]:
    """The first `limit` of `found` (km, band low, row) by distance band, then open now, then
    verified most recently, then distance. Open-now is only worked out in the bands that
    decide the answer; the sort is stable, as it always was."""
    if not found:
        return []
    lows = sorted(low for _, low, _ in found)
    last_low = lows[min(limit, len(lows)) - 1]
    ranked = [(km, low, open_now(row), row) for km, low, row in found if low <= last_low]
    ranked.sort(key=lambda c: (c[1], c[2] is not True, _days_since_verified(c[3]), c[0]))
    return [(km, now_open, row) for km, _, now_open, row in ranked[:limit]]


def _candidates(rows: Iterable, near: Near, filters: SearchFilters,
                open_now: _OpenNow) -> list[tuple]:
    """(km, band low, row) of the rows within MAX_DISTANCE_KM (and open, if asked)."""
    found = []
    for row in rows:
        lat, lon = (float(v) for v in row.coordinates.split(","))
        km = haversine_km(near.latitude, near.longitude, lat, lon)
        if km > MAX_DISTANCE_KM:
            continue
        if filters.open_now and open_now(row) is not True:
            continue
        found.append((km, _band_low(km), row))
    return found


def _settled(found: list[tuple], limit: int, guaranteed_km: float) -> bool:
    """Whether everything that could still make the first `limit` lies within guaranteed_km,
    so inside what was searched: the `limit`-th best band ends there."""
    if len(found) < limit:
        return False
    last_low = sorted(low for _, low, _ in found)[limit - 1]
    last_band = distance_band(last_low) or (0, MAX_DISTANCE_KM)
    return last_band[1] <= guaranteed_km


def _in_rings(candidates: Callable[..., list[tuple]], near: Near, origin: str,
              limit: int) -> list[tuple]:
    """Many candidates in reach: read them ring by ring, nearest first, until the first
    `limit` are certain. candidates(*where): (km, band low, row) of the rows matching."""
    c = search_index.c
    fine_origin = h3.latlng_to_cell(near.latitude, near.longitude, FINE_CELL_RESOLUTION)
    found = candidates(c.cell.in_(h3.grid_disk(origin, RINGS[0])), c.cell_fine.is_(None))
    seen: set[str] = set()
    for ring in FINE_RINGS:
        cells = [cell for cell in h3.grid_disk(fine_origin, ring) if cell not in seen]
        seen.update(cells)
        found += candidates(c.cell_fine.in_(cells))
        if _settled(found, limit, min(_guaranteed_km(ring, FINE_CELL_RESOLUTION),
                                      _guaranteed_km(RINGS[0]))):
            return found
    seen, found = set(), []  # not settled nearby: the coarse rings, from the start
    for ring in RINGS:
        cells = [cell for cell in h3.grid_disk(origin, ring) if cell not in seen]
        seen.update(cells)
        found += candidates(c.cell.in_(cells))
        if _settled(found, limit, _guaranteed_km(ring)):
            break
    return found


@dataclass(frozen=True)
class _Statements:
    """What one need and set of filters read in a table, built once: SQLAlchemy's building
    and cache keys cost more than running the query on a small directory."""

    rows: Any  # the candidates' columns (not `display`); .where() adds the cells
    count_all: Any  # how many candidates anywhere, up to WHOLE_DIRECTORY_ROWS + 1
    count_in_reach: Any  # how many in the cells "cells", up to IN_REACH_ROWS + 1
    rows_in_reach: Any  # the candidates in the cells "cells"
    displays: Any  # id and display of the rows "ids"


@lru_cache(maxsize=256)
def _statements(table: Table, need: str | None, filters: SearchFilters) -> _Statements:
    c = table.c
    conditions = _conditions(table, need, filters)
    rows = select(*(column for column in table.columns if column.name != "display")
                  ).where(*conditions)
    in_reach = c.cell.in_(bindparam("cells", expanding=True))

    def count(*where: Any, at_most: int) -> Any:  # stops reading at at_most + 1
        return select(func.count()).select_from(
            select(c.id).where(*where, *conditions).limit(at_most + 1).subquery())

    return _Statements(rows, count(at_most=WHOLE_DIRECTORY_ROWS),
                       count(in_reach, at_most=IN_REACH_ROWS), rows.where(in_reach),
                       select(c.id, c.display).where(c.id.in_(bindparam("ids", expanding=True))))


@lru_cache(maxsize=256)
def _in_reach(origin: str) -> tuple[str, ...]:
    """The coarse cells within MAX_DISTANCE_KM of any point of `origin`."""
    return tuple(h3.grid_disk(origin, RINGS[-1]))


def search(
    engine: Engine,
    need: str | None,
    near: Near,
    filters: SearchFilters | None = None,
    limit: int = 3,
    now: datetime | None = None,
) -> list[ServiceMatch]:
    """Places offering `need` within MAX_DISTANCE_KM of `near`, best first: distance band,
    then open now, then verified most recently, then distance.

    Only coordinates are decrypted to rank; what is shown (`display`) only for the winners."""
    filters = filters or SearchFilters()
    open_now = _OpenNow(now or datetime.now(timezone.utc))
    origin = h3.latlng_to_cell(near.latitude, near.longitude, CELL_RESOLUTION)
    statements = _statements(search_index, need, filters)
    with engine.connect() as connection:

        def candidates(*where: Any) -> list[tuple]:  # (km, band low, row)
            return _candidates(connection.execute(statements.rows.where(*where)),
                               near, filters, open_now)

        if connection.execute(statements.count_all).scalar_one() <= WHOLE_DIRECTORY_ROWS:
            found = candidates()
        else:
            in_reach = {"cells": _in_reach(origin)}
            if connection.execute(statements.count_in_reach, in_reach).scalar_one() \
                    <= IN_REACH_ROWS:
                found = _candidates(connection.execute(statements.rows_in_reach, in_reach),
                                    near, filters, open_now)
            else:
                found = _in_rings(candidates, near, origin, limit)
        best = _best(found, limit, open_now)
        displays = dict(connection.execute(
            statements.displays, {"ids": [row.id for _, _, row in best]}).all()) if best else {}
    return [_match(km, now_open, row, displays[row.id]) for km, now_open, row in best]


def _match(km: float, open_now: bool | None, row,  # noqa: ANN001 - a Row
           display: dict) -> ServiceMatch:
    return ServiceMatch(
        service_id=row.service_id,
        name=display["name"],
        organization=display["organization"],
        needs=tuple(n for n in row.needs.split(",") if n),
        confidential=row.confidential,
        distance_km=None if row.confidential or row.phone_line else round(km, 1),
        distance_band=None if row.phone_line else distance_band(km),
        phone=display["phone"],
        address=None if row.confidential else display["address"],
        languages=tuple(code for code in row.languages.split(",") if code),
        hours=tuple(OpeningHours(tuple(h["days"]), h["opens"], h["closes"])
                    for h in json.loads(row.hours)),
        last_verified=row.last_verified,
        phone_only=row.phone_line,
        open_now=open_now,
        free=row.free,
        area=display.get("area"),
    )
