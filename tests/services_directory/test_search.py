import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage import create_tables, make_engine
from services_directory import Near, SearchFilters, search
from services_directory.geo import distance_band
from services_directory.importer import ImportFileError, import_services
from services_directory.models import ServicePlace
from tests.conftest import SAMPLE_DIRECTORY

MADRID = Near(40.4168, -3.7038)
CHICAGO = Near(41.8781, -87.6298)


def _count(engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(ServicePlace)).scalar_one()


def test_shelters_near_madrid_hide_confidential_addresses(database):
    matches = search(database, "shelter", MADRID)
    assert matches, "the sample directory has shelters in Madrid"
    assert all("shelter" in m.needs for m in matches)
    for match in matches:
        if match.confidential:
            assert match.address is None and match.distance_km is None
            assert match.distance_band is not None  # ranked and shown by band only


def test_results_are_nearest_first_and_within_reach(database):
    matches = search(database, "legal", CHICAGO, limit=10)
    distances = [m.distance_km for m in matches if m.distance_km is not None]
    assert distances == sorted(distances)
    assert all(d <= 100 for d in distances)
    assert search(database, "legal", Near(-45.0, 170.0)) == []  # nowhere near any service


def test_language_filter_keeps_providers_speaking_it(database):
    matches = search(database, None, MADRID, SearchFilters(languages=("ro",)), limit=20)
    assert matches and all("ro" in m.languages for m in matches)


def test_phone_lines_are_offered_in_the_area_they_serve(database):
    lines = search(database, "hotline", MADRID)
    assert any(m.phone_only and m.phone for m in lines)


def test_import_is_idempotent(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    create_tables(engine)
    first = import_services(engine, SAMPLE_DIRECTORY)
    count = _count(engine)
    import_services(engine, SAMPLE_DIRECTORY)
    assert first.services >= 40 and _count(engine) == count


def test_placeholder_coordinates_are_kept_but_not_findable(tmp_path):
    service = json.loads(SAMPLE_DIRECTORY.read_text())[0]
    location = service["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = 100, 101  # as in the HSDS examples
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"contents": [service]}))
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    create_tables(engine)
    assert import_services(engine, path).services == 1
    assert search(engine, None, Near(40.41, -3.70)) == []


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"name": "no id"}'])
def test_a_bad_file_is_one_clear_error_and_imports_nothing(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    create_tables(engine)
    with pytest.raises(ImportFileError, match="bad.json"):
        import_services(engine, path)
    assert _count(engine) == 0


def test_distance_bands():
    assert distance_band(0.4) == (0, 1)
    assert distance_band(3.2) == (2, 5)
    assert distance_band(120) is None
