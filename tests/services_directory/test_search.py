from datetime import datetime, timezone

from services_directory import Near, SearchFilters, search
from services_directory.geo import distance_band

MADRID = Near(40.4168, -3.7038)
CHICAGO = Near(41.8781, -87.6298)


def test_shelters_near_madrid_hide_confidential_addresses(database):
    matches = search(database, "shelter", MADRID)
    assert matches, "the sample directory has shelters in Madrid"
    assert all("shelter" in m.needs for m in matches)
    for match in matches:
        if match.confidential:
            assert match.address is None and match.distance_km is None
            assert match.phone  # "call for location"
            assert match.area == "Madrid"  # a coarse area, never the address


def test_results_are_nearest_first_and_within_reach(database):
    matches = search(database, "legal", CHICAGO, limit=10)
    bands = [m.distance_band[0] for m in matches if m.distance_band]
    assert bands == sorted(bands)
    assert all(m.distance_km is None or m.distance_km <= 100 for m in matches)
    assert search(database, "legal", Near(-45.0, 170.0)) == []  # nowhere near any service


def test_language_filter_keeps_providers_speaking_it(database):
    matches = search(database, None, MADRID, SearchFilters(languages=("ro",)), limit=20)
    assert matches and all("ro" in m.languages for m in matches)


def test_phone_lines_are_offered_in_the_area_they_serve(database):
    lines = search(database, "hotline", MADRID)
    assert any(m.phone_only and m.phone and m.distance_km is None for m in lines)


def test_open_now_uses_the_local_time_of_the_place(database):
    sunday_night_in_madrid = datetime(2026, 3, 1, 22, 30, tzinfo=timezone.utc)
    open_places = search(database, None, MADRID, SearchFilters(open_now=True), limit=50,
                         now=sunday_night_in_madrid)
    assert open_places and all(m.open_now for m in open_places)
    assert all(any(len(h.days) == 7 for h in m.hours) for m in open_places)  # 24/7 ones only


def test_distance_bands():
    assert distance_band(0.4) == (0, 1)
    assert distance_band(3.2) == (2, 5)
    assert distance_band(120) is None


def test_reading_all_at_once_answers_as_the_rings_do(database, monkeypatch):
    """A small directory is read whole; where few places are in reach, those are read in one
    go; elsewhere ring by ring. All three must give the same places in the same order,
    whatever the need, filter or limit."""
    import importlib
    import random

    search_module = importlib.import_module("services_directory.search")  # not the function
    rng = random.Random(7)
    cities = [MADRID, CHICAGO, Near(51.5072, -0.1276), Near(34.0522, -118.2437),
              Near(14.5995, 120.9842)]
    points = cities + [Near(city.latitude + rng.uniform(-0.9, 0.9),
                            city.longitude + rng.uniform(-0.9, 0.9))
                       for city in cities for _ in range(4)]
    cases = [(need, SearchFilters(), limit) for need in ("shelter", "legal", "medical",
                                                         "hotline", None) for limit in (1, 3, 8)]
    cases += [(None, SearchFilters(languages=("es",)), 5), ("shelter", SearchFilters(
        gender="female", free=True), 3)]
    now = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

    def answers() -> list[list[tuple]]:
        return [[(m.service_id, m.distance_km, m.open_now) for m in
                 search(database, need, point, filters, limit=limit, now=now)]
                for point in points for need, filters, limit in cases]

    whole = answers()
    assert sum(map(bool, whole)) > len(whole) / 2  # most found something to compare
    monkeypatch.setattr(search_module, "WHOLE_DIRECTORY_ROWS", 0)  # as if it were large
    assert answers() == whole
    monkeypatch.setattr(search_module, "IN_REACH_ROWS", 0)  # as if every area were a city
    assert answers() == whole
