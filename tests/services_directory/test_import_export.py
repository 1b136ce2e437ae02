"""HSDS 3.0 in and out, as an admin sees it: official examples import cleanly, a bad file
imports nothing and says where, exports round-trip, every change is audited without values."""

from __future__ import annotations

import csv
import filecmp
import io
import json
import uuid
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from services_directory import Near, hsds, search, store
from services_directory.admin import (
    add_service,
    list_services,
    remove_service,
    service_from_flags,
    show_service,
    update_service,
)
from services_directory.audit import audit_log
from services_directory.export import export_csv, export_json
from services_directory.importer import import_path
from tests.services_directory.conftest import HSDS_EXAMPLES, SAMPLE, sample_services

MADRID = Near(40.4168, -3.7038)
# The official JSON examples that hold HSDS objects, and what their top-level objects are.
JSON_EXAMPLES = {
    "service_full.json": "service", "service_list.json": "service",
    "organization_full.json": "organization", "organization_list.json": "organization",
    "location.json": "location",
    "service_at_location_full.json": "service_at_location",
    "service_at_location_list.json": "service_at_location",
    "taxonomy.json": "taxonomy", "taxonomy_list.json": "taxonomy",
    "taxonomy_term.json": "taxonomy_term", "taxonomy_term_list.json": "taxonomy_term",
}
AUDIT_TABLE = audit_log.name


def _ids_in(engine, entity: str) -> set[str]:  # noqa: ANN001 - an Engine
    table = hsds.TABLES[entity]
    with engine.connect() as connection:
        return set(connection.execute(select(table.c.id)).scalars())


def _hsds_counts(directory) -> dict[str, int]:  # noqa: ANN001 - a Directory
    return {name: n for name, n in directory.counts().items() if name != AUDIT_TABLE}


def _nothing_written(directory) -> bool:  # noqa: ANN001 - a Directory
    """No directory row and no audit row (the keys and the schema version are there)."""
    return all(n == 0 for name, n in directory.counts().items()
               if name.startswith(("hsds_", "directory_")))


def _write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample_directory(module_directory):  # noqa: ANN001, ANN201 - a Directory
    directory = module_directory("sample")
    report = import_path(directory.engine, SAMPLE)
    assert report.imported and report.problems == [] and report.services == 50
    return directory


# --- the official HSDS examples ------------------------------------------------------------

def test_the_official_examples_are_there():
    assert (HSDS_EXAMPLES / "csv" / "datapackage.json").is_file(), HSDS_EXAMPLES
    assert all((HSDS_EXAMPLES / name).is_file() for name in JSON_EXAMPLES)


def test_the_official_csv_package_imports_every_row(new_directory):
    engine = new_directory().engine
    report = import_path(engine, HSDS_EXAMPLES / "csv")
    assert report.problems == [] and report.imported
    package = json.loads((HSDS_EXAMPLES / "csv" / "datapackage.json").read_text())
    for resource in package["resources"]:
        with (HSDS_EXAMPLES / "csv" / resource["path"]).open(encoding="utf-8-sig") as handle:
            ids = {row["id"] for row in csv.DictReader(handle)}
        assert ids and ids <= _ids_in(engine, resource["name"]), resource["path"]


def test_a_first_import_that_fails_half_way_leaves_the_database_as_it_was(new_directory,
                                                                         monkeypatch):
    directory = new_directory()
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    with directory.engine.connect() as connection:
        before = connection.exec_driver_sql(schema).all()

    def disk_full(*args: object, **kwargs: object) -> list[str]:
        raise OSError("disk full")

    monkeypatch.setattr(store, "index_from_rows", disk_full)  # after the rows went in
    with pytest.raises(OSError):
        import_path(directory.engine, SAMPLE)
    with directory.engine.connect() as connection:
        assert connection.exec_driver_sql(schema).all() == before  # every index is there
    assert not any(count for table, count in directory.counts().items()
                   if table.startswith(("hsds_", "directory_")))


@pytest.mark.parametrize(("name", "entity"), JSON_EXAMPLES.items())
def test_each_official_json_example_imports_with_no_problem(new_directory, name, entity):
    engine = new_directory().engine
    path = HSDS_EXAMPLES / name
    report = import_path(engine, path)
    assert report.problems == [] and report.imported
    data = json.loads(path.read_text(encoding="utf-8"))
    objects = data["contents"] if isinstance(data, dict) and "contents" in data else data
    objects = objects if isinstance(objects, list) else [objects]
    assert objects and {o["id"] for o in objects} <= _ids_in(engine, entity)


def test_placeholder_coordinates_import_with_a_warning_and_are_not_findable(new_directory):
    engine = new_directory().engine
    report = import_path(engine, HSDS_EXAMPLES / "service_full.json")
    assert report.imported and report.problems == []
    example = json.loads((HSDS_EXAMPLES / "service_full.json").read_text())
    location = example["service_at_locations"][0]["location"]
    assert (location["latitude"], location["longitude"]) == (100, 101)
    assert any(location["id"] in w and "(100, 101)" in w for w in report.warnings)
    [listed] = list_services(engine)
    assert listed["findable_places"] == 0  # kept, but never offered by distance
    shown = show_service(engine, example["id"])
    assert shown["service_at_locations"][0]["location"]["latitude"] == 100


# --- idempotent, all-or-nothing imports ----------------------------------------------------

def test_importing_the_same_file_twice_changes_no_count(sample_directory):
    engine = sample_directory.use()
    before = sample_directory.counts()
    report = import_path(engine, SAMPLE)
    after = sample_directory.counts()
    assert _hsds_counts(sample_directory) == {k: v for k, v in before.items()
                                              if k != AUDIT_TABLE}
    assert after[AUDIT_TABLE] == before[AUDIT_TABLE] + report.records  # still audited


def test_the_same_ids_update_what_is_there(sample_directory, tmp_path):
    engine = sample_directory.use()
    service = next(s for s in sample_services() if len(s.get("languages") or []) > 1)
    changed = {**service, "name": "Renamed in a later export",
               "languages": service["languages"][:1]}
    before = _hsds_counts(sample_directory)
    assert import_path(engine, _write_json(tmp_path / "one.json", changed)).imported
    shown = show_service(engine, service["id"])
    assert shown["name"] == "Renamed in a later export"
    assert [lang["id"] for lang in shown["languages"]] == [service["languages"][0]["id"]]
    after = _hsds_counts(sample_directory)
    assert after["hsds_service"] == before["hsds_service"]
    assert after["hsds_language"] == before["hsds_language"] - (len(service["languages"]) - 1)


def _subset() -> list[dict]:
    return sample_services()[:12]


def _object_lines(services: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The text of a JSON list of services, and the first and last line of each one."""
    blocks = [json.dumps(s, ensure_ascii=False, indent=2) for s in services]
    spans, line = [], 2  # line 1 is "["
    for block in blocks:
        height = block.count("\n") + 1
        spans.append((line, line + height - 1))
        line += height
    return "[\n" + ",\n".join(blocks) + "\n]\n", spans


def _without_status(service: dict) -> dict:
    return {k: v for k, v in service.items() if k != "status"}


def _with_text_latitude(service: dict) -> dict:
    broken = json.loads(json.dumps(service))
    broken["service_at_locations"][0]["location"]["latitude"] = "forty"
    return broken


@pytest.mark.parametrize(("spoil", "why"), [
    (_without_status, ["'status' is a required property"]),
    (_with_text_latitude, ["latitude", "'forty' is not of type 'number'"]),
])
def test_a_json_file_with_one_bad_service_imports_nothing_and_says_where(
        new_directory, tmp_path, spoil, why):
    directory = new_directory()
    services = _subset()
    bad = max(i for i, s in enumerate(services) if s.get("service_at_locations"))
    assert bad > 1
    services[bad] = spoil(services[bad])
    text, spans = _object_lines(services)
    path = tmp_path / "services.json"
    path.write_text(text, encoding="utf-8")

    report = import_path(directory.engine, path)
    assert not report.imported
    assert _nothing_written(directory)  # not even the audit
    [problem] = report.problems
    file, line = problem.where.rsplit(":", 1)
    assert file == str(path)
    assert spans[bad][0] <= int(line) <= spans[bad][1], (problem, spans[bad])
    assert services[bad]["id"] in problem.why and all(w in problem.why for w in why)

    report = import_path(directory.engine, path, skip_invalid=True)
    assert report.imported and len(report.problems) == 1
    assert _ids_in(directory.engine, "service") == {
        s["id"] for i, s in enumerate(services) if i != bad}


@pytest.fixture(scope="module")
def subset_csv(module_directory, tmp_path_factory):  # noqa: ANN001, ANN201 - a Path
    """The first services of the sample, exported as an HSDS CSV package."""
    directory = module_directory("subset")
    source = _write_json(tmp_path_factory.mktemp("subset") / "subset.json", _subset())
    assert import_path(directory.engine, source).imported
    folder = tmp_path_factory.mktemp("subset-csv")
    export_csv(directory.engine, folder)
    return folder


def _spoil_csv(path: Path, row_index: int, changes: dict[str, str]) -> int:
    """Change cells of the row_index-th data row; returns the line the row starts on."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for column, value in changes.items():
        rows[1 + row_index][header.index(column)] = value

    def text(some_rows: list[list[str]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(some_rows)
        return buffer.getvalue()

    path.write_text(text(rows), encoding="utf-8")
    return text(rows[: 1 + row_index]).count("\n") + 1  # line breaks in quoted cells count


@pytest.mark.parametrize(("file", "entity", "changes", "why"), [
    ("locations.csv", "location", {"latitude": "forty"}, "latitude: not a number: 'forty'"),
    ("services.csv", "service", {"id": "service-7"}, "id: not a UUID: 'service-7'"),
    ("services.csv", "service", {"id": "service-7", "description": "first line\nsecond line"},
     "id: not a UUID: 'service-7'"),  # the line where the bad row starts
    ("services.csv", "service", {"description": "two\nlines"}, None),  # valid: quoted break
])
def test_a_csv_row_that_is_wrong_imports_nothing_and_says_which_line(
        new_directory, subset_csv, tmp_path, file, entity, changes, why):
    import shutil

    folder = tmp_path / "package"
    shutil.copytree(subset_csv, folder)
    # A multi-line cell before the bad row must not shift the line reported.
    _spoil_csv(folder / file, 2, {"description": "a description\nover two lines"})
    line = _spoil_csv(folder / file, 6, changes)
    with (folder / file).open(encoding="utf-8", newline="") as handle:
        total = len(list(csv.DictReader(handle)))
    directory = new_directory()

    report = import_path(directory.engine, folder)
    if why is None:
        assert report.problems == [] and report.imported
        return
    assert not report.imported
    assert _nothing_written(directory)
    assert [str(p) for p in report.problems] == [f"{folder / file}:{line}: {why}"]

    report = import_path(directory.engine, folder, skip_invalid=True)
    assert report.imported
    assert len(_ids_in(directory.engine, entity)) == total - 1


@pytest.mark.parametrize("shape", ["contents", "list", "object"])
def test_every_hsds_json_shape_imports(new_directory, tmp_path, shape):
    services = sample_services()[:3]
    content = {"contents": services, "total_items": 3, "page_number": 1} \
        if shape == "contents" else services if shape == "list" else services[0]
    engine = new_directory().engine
    report = import_path(engine, _write_json(tmp_path / "in.json", content))
    assert report.imported and report.problems == []
    expected = {services[0]["id"]} if shape == "object" else {s["id"] for s in services}
    assert _ids_in(engine, "service") == expected


# --- export round trips ----------------------------------------------------------------------

def _shelters_near_madrid(directory) -> list[dict]:  # noqa: ANN001 - a Directory
    return [asdict(m) for m in search(directory.use(), "shelter", MADRID, limit=50)]


def test_a_csv_export_imports_and_exports_again_identically(
        sample_directory, new_directory, tmp_path):
    engine = sample_directory.use()
    export_csv(engine, tmp_path / "first")
    with (tmp_path / "first" / "services.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 50
    copy = new_directory("copy")
    report = import_path(copy.engine, tmp_path / "first")
    assert report.imported and report.problems == []
    export_csv(copy.engine, tmp_path / "second")
    first = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert first == sorted(p.name for p in (tmp_path / "second").iterdir())
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "first", tmp_path / "second", first,
                                           shallow=False)
    assert mismatch == [] and errors == []
    assert _shelters_near_madrid(copy) == _shelters_near_madrid(sample_directory)


def test_a_json_export_imports_and_exports_again_identically(
        sample_directory, new_directory, tmp_path):
    engine = sample_directory.use()
    assert export_json(engine, tmp_path / "first.json") == 50
    copy = new_directory("copy")
    report = import_path(copy.engine, tmp_path / "first.json")
    assert report.imported and report.problems == []
    export_json(copy.engine, tmp_path / "second.json")
    assert (tmp_path / "first.json").read_text() == (tmp_path / "second.json").read_text()
    assert _shelters_near_madrid(copy) == _shelters_near_madrid(sample_directory)


def test_a_service_added_with_an_address_can_be_updated_and_exported(
        new_directory, tmp_path):
    """`passage directory add --address A --city C --country CC` (no region, no postcode)."""
    directory = new_directory()
    service = service_from_flags("Centro Norte", "Org Norte", ["legal"], "+34 91 000 0555",
                                 40.45, -3.69, "Calle Norte 5", "Madrid", "ES", False, ["es"])
    service_id, _ = add_service(directory.engine, service)
    update_service(directory.engine, service_id, {"name": "Centro Norte (legal aid)"})
    export_json(directory.engine, tmp_path / "out.json")
    copy = new_directory("copy")
    report = import_path(copy.engine, tmp_path / "out.json")
    assert report.problems == []
    assert show_service(copy.engine, service_id)["service_at_locations"][0]["location"][
        "addresses"][0]["address_1"] == "Calle Norte 5"


# --- needs from other taxonomies ---------------------------------------------------------

def _service_with_term(term: dict) -> dict:
    service = service_from_flags("Refugio Mapeado", "Mapped Org", [], "+34 91 000 0990",
                                 40.42, -3.70, None, None, None, False, ["es"])
    service["attributes"] = [{"id": str(uuid.uuid4()),
                              "link_id": service["id"], "link_type": "service_type",
                              "link_entity": "service", "taxonomy_term": term}]
    return service


@pytest.mark.parametrize("taxonomy", [
    {"taxonomy": "Open Eligibility"},
    {"taxonomy_detail": {"id": "5f6b2a3e-8d3c-4c1e-9b8a-7e6d5c4b3a21", "name": "Open Eligibility",
                         "description": "Open Eligibility taxonomy"}},
])
def test_a_mapped_open_eligibility_term_gives_the_passage_need(new_directory, tmp_path,
                                                               taxonomy):
    term = {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "code": "1102",
            "name": "Emergency Shelter", "description": "Open Eligibility term", **taxonomy}
    unmapped = {**term, "id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "code": "9999",
                "name": "Pet grooming"}
    mapped_service, unmapped_service = _service_with_term(term), _service_with_term(unmapped)
    engine = new_directory().engine
    path = _write_json(tmp_path / "oe.json", [mapped_service, unmapped_service])
    assert import_path(engine, path).problems == []
    needs = {s["service_id"]: s["needs"] for s in list_services(engine)}
    assert needs == {mapped_service["id"]: ["shelter"], unmapped_service["id"]: []}
    shelters = search(engine, "shelter", MADRID, limit=50)
    assert [m.service_id for m in shelters] == [mapped_service["id"]]


# --- the audit log -------------------------------------------------------------------------

def test_every_change_is_audited_with_who_when_what_and_no_values(
        new_directory, tmp_path, monkeypatch):
    monkeypatch.setenv("PASSAGE_ACTOR", "admin-ana")
    engine = new_directory().engine
    start = datetime.now(timezone.utc).replace(tzinfo=None)
    imported = sample_services()[:4]
    assert import_path(engine, _write_json(tmp_path / "some.json", imported)).imported
    new = service_from_flags("Casa Secreta", "Org Secreta", ["shelter"], "+34 91 000 0777",
                             40.4312, -3.6871, None, None, None, True, ["es"])
    added_id, _ = add_service(engine, new)
    update_service(engine, added_id, {"name": "Casa Secreta Norte"})
    remove_service(engine, imported[0]["id"])
    end = datetime.now(timezone.utc).replace(tzinfo=None)

    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(select(audit_log))]
    by_action: dict[str, set[str]] = {}
    for row in rows:
        assert row["actor"] == "admin-ana"
        assert start <= row["at"].replace(tzinfo=None) <= end
        by_action.setdefault(row["action"], set()).add(row["entity_id"])
    assert {s["id"] for s in imported} <= by_action["import"]
    assert by_action["add"] == {added_id}
    assert by_action["update"] == {added_id}
    assert by_action["remove"] == {imported[0]["id"]}

    values = ["Casa Secreta", "+34 91 000 0777", "40.4312", "-3.6871",
              *(s["name"] for s in imported),
              *(p["number"] for s in imported for p in s.get("phones") or []),
              *(a["address_1"] for s in imported for link in s.get("service_at_locations") or []
                for a in link["location"].get("addresses") or [])]
    audit_text = json.dumps(rows, default=str)
    assert [v for v in values if v in audit_text] == []
