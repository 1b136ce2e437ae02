"""The admin's `passage directory ...` commands, run for real in a fresh PASSAGE_HOME."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

import encryption
from bot.settings import Settings
from services_directory import Near, SearchFilters, search
from services_directory.needs import NEEDS
from tests.services_directory.conftest import (
    COMMAND_SECONDS,
    PASSAGE,
    SAMPLE,
    run_passage,
    sample_services,
)

MADRID = "40.4168,-3.7038"
CONTRACT = {"service_id", "name", "organization", "needs", "confidential", "distance_km", "phone",
            "address", "languages", "open_now"}

# A men-only, adults-only, wheelchair-accessible shelter that charges and speaks Tagalog,
# open on weekdays only: what an admin writes in a YAML snippet.
MEN_ONLY_SHELTER = """\
name: Hostal San Roque (men only)
status: active
description: SAMPLE DATA (fictional). Beds for men aged 18 and over.
minimum_age: 18
organization:
  id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a01
  name: Asociación San Roque
  description: SAMPLE DATA (fictional). A night shelter for men.
phones:
  - id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a02
    number: "+34 91 000 0888"
languages:
  - {id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a03, code: es, name: Spanish}
  - {id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a04, code: tl, name: Tagalog}
cost_options:
  - {id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a05, option: Per night, amount: 12, currency: EUR}
attributes:
  - id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a06
    link_type: need
    link_entity: service
    taxonomy_term:
      {id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a07, code: shelter, name: Shelter,
       description: A safe place to stay., taxonomy: passage}
  - id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a08
    link_type: eligibility
    link_entity: service
    taxonomy_term:
      {id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a09, code: men_only, name: Men only,
       description: Only for men., taxonomy: passage}
service_at_locations:
  - id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a10
    schedules:
      - {id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a11, freq: WEEKLY, byday: "MO,TU,WE,TH,FR",
         opens_at: "09:00", closes_at: "17:00"}
    location:
      id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a12
      location_type: physical
      name: Hostal San Roque
      latitude: 40.4238
      longitude: -3.7112
      accessibility:
        - {id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a13,
           description: Step-free entrance and wheelchair accessible toilets}
      addresses:
        - id: 5d0c7a52-3a4e-4f44-9a7e-0d6f1b2c3a14
          address_1: Calle de San Roque 8
          city: Madrid
          state_province: Comunidad de Madrid
          postal_code: "28004"
          country: ES
          address_type: physical
"""
RENAMED = "Clínica Legal Renombrada"
FLAGS_SHELTER = ["--name", "Refugio Escondido", "--organization", "Red Escondida",
                 "--need", "shelter", "--need", "legal", "--phone", "+34 91 000 0999",
                 "--at", "40.4201,-3.7005", "--address", "Calle Escondida 17", "--city", "Madrid",
                 "--country", "ES", "--language", "es", "--language", "ar", "--confidential"]


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


def _json(done: subprocess.CompletedProcess):  # noqa: ANN202 - parsed JSON
    return json.loads(_ok(done))


def _run_together(home: Path, *commands: list[str], **env: str
                  ) -> list[subprocess.CompletedProcess]:
    """Commands at once, as several admins might; results in the same order."""
    env = {**os.environ, "PASSAGE_HOME": str(home), **env}
    started = [(command, subprocess.Popen([PASSAGE, *command], stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, env=env))
               for command in commands]
    results = []
    for command, process in started:
        out, err = process.communicate(timeout=COMMAND_SECONDS)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


def _search(*args: str) -> list[str]:
    return ["directory", "search", "--near", MADRID, "--json", "--limit", "50", *args]


def _non_confidential(need: str) -> list[dict]:
    return [s for s in sample_services()
            if s.get("service_at_locations") and need in {a["taxonomy_term"]["code"]
                                                         for a in s["attributes"]}
            and not any(link["location"]["confidential"] for link in s["service_at_locations"])]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """`passage keys init` and `passage directory import` of the sample, as on day one."""
    path = tmp_path_factory.mktemp("passage-home")
    init = run_passage(path, "keys", "init")
    imported = run_passage(path, "directory", "import", str(SAMPLE))
    return SimpleNamespace(path=path, init=init, imported=imported)


@pytest.fixture(scope="module")
def added(home: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Three changes at the same time: a service added from a YAML snippet, one added from
    flags, a sample service renamed."""
    snippet = tmp_path_factory.mktemp("snippets") / "men-only.yml"
    snippet.write_text(MEN_ONLY_SHELTER, encoding="utf-8")
    renamed = _non_confidential("legal")[0]
    runs = _run_together(home.path, ["directory", "add", str(snippet)],
                         ["directory", "add", *FLAGS_SHELTER],
                         ["directory", "update", renamed["id"], "--name", RENAMED],
                         PASSAGE_ACTOR="admin-ana")
    ids = [done.stdout.split()[-1].rstrip(".") if done.returncode == 0 else None
           for done in runs[:2]]
    return SimpleNamespace(runs=runs, men_only=ids[0], confidential=ids[1], renamed=renamed)


def test_keys_init_then_import_the_sample(home):
    assert "Created key file" in _ok(home.init)
    key_file = home.path / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _ok(home.imported).startswith(f"Imported {len(sample_services())} services (")
    again = run_passage(home.path, "keys", "init")
    assert "already exists" in _ok(again)


def test_search_prints_the_json_contract(home):
    results = _json(run_passage(home.path, "directory", "search", "--near", MADRID,
                                "--need", "shelter", "--json"))
    assert results and isinstance(results, list)
    confidential = {s["id"]: any(link["location"]["confidential"]
                                 for link in s.get("service_at_locations") or [])
                    for s in sample_services()}
    for item in results:
        assert set(item) >= CONTRACT, item
        assert "shelter" in item["needs"]
        assert item["phone"]
        assert isinstance(item["languages"], list) and item["open_now"] in (True, False, None)
        if item["confidential"]:
            assert item["distance_km"] is None and item["address"] is None
        else:
            assert isinstance(item["distance_km"], float) and item["address"]
        if item["service_id"] in confidential:
            assert item["confidential"] == confidential[item["service_id"]]
    assert any(item["confidential"] for item in results)  # Madrid's shelters are hidden ones


def test_admins_can_change_the_directory_at_the_same_time(added):
    for done in added.runs:
        assert done.returncode == 0, done.stderr
    assert added.runs[0].stdout.startswith("Added service ")
    assert added.runs[1].stdout.startswith("Added service ")
    assert added.runs[2].stdout.strip() == f"Updated service {added.renamed['id']}."


def test_added_services_are_shown_to_the_admin_and_found_safely(home, added):
    show, found = _run_together(home.path, ["directory", "show", added.confidential],
                                _search("--need", "shelter"))
    hidden = _json(show)
    location = hidden["service_at_locations"][0]["location"]
    assert location["confidential"] is True
    assert location["addresses"][0]["address_1"] == "Calle Escondida 17"  # the admin sees it
    assert [p["number"] for p in hidden["phones"]] == ["+34 91 000 0999"]

    results = {r["service_id"]: r for r in _json(found)}
    men_only = results[added.men_only]
    assert men_only["name"] == "Hostal San Roque (men only)"
    assert men_only["address"].startswith("Calle de San Roque 8")
    assert men_only["distance_km"] is not None and men_only["confidential"] is False
    secret = results[added.confidential]
    assert secret["confidential"] is True
    assert (secret["address"], secret["distance_km"]) == (None, None)
    assert secret["phone"] == "+34 91 000 0999"  # "call for location"
    assert set(secret["needs"]) == {"shelter", "legal"}
    assert set(secret["languages"]) == {"es", "ar"}

    raw = b"".join(p.read_bytes() for p in home.path.glob("passage.db*"))
    for value in ("Refugio Escondido", "Calle Escondida 17", "+34 91 000 0999", "40.4201"):
        assert value.encode() not in raw, value


def test_update_renames_and_every_change_is_audited(home, added):
    service = added.renamed
    shown = _json(run_passage(home.path, "directory", "show", service["id"]))
    assert shown["name"] == RENAMED
    assert [p["number"] for p in shown["phones"]] == [p["number"] for p in service["phones"]]
    with sqlite3.connect(home.path / "passage.db") as connection:
        rows = set(connection.execute("SELECT action, actor, entity_id FROM directory_audit_log "
                                      "WHERE action != 'import'"))
    assert rows >= {("update", "admin-ana", service["id"]),
                    ("add", "admin-ana", added.men_only),
                    ("add", "admin-ana", added.confidential)}


def test_remove_takes_a_service_out_of_show_and_search(home):
    service = _non_confidential("work")[-1]
    assert _ok(run_passage(home.path, "directory", "remove", service["id"])).strip() == (
        f"Removed service {service['id']}.")
    show, found = _run_together(home.path, ["directory", "show", service["id"]],
                                _search("--need", "work"))
    assert show.returncode == 2
    assert show.stderr.splitlines() == [f"passage: no service with id {service['id']}"]
    results = _json(found)
    assert results and service["id"] not in {r["service_id"] for r in results}


def test_list_stats_and_export_agree(home, tmp_path):
    listing, stats, to_json, to_csv = _run_together(
        home.path, ["directory", "list", "--json"], ["directory", "stats"],
        ["directory", "export", "--format", "json", "--out", str(tmp_path / "out.json")],
        ["directory", "export", "--format", "csv", "--out", str(tmp_path / "csv")])
    services = _json(listing)
    counts = _json(stats)
    assert counts["services"] == len(services) >= 49
    assert counts["confidential_places"] >= 9
    assert set(counts["places_by_need"]) == set(NEEDS) and counts["places_by_need"]["shelter"]
    assert all(s["needs"] and set(s["needs"]) <= set(NEEDS) for s in services)

    _ok(to_json), _ok(to_csv)
    exported = tmp_path / "out.json"
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600  # as secret as the database
    assert {s["id"] for s in json.loads(exported.read_text())} == {
        s["service_id"] for s in services}
    assert (tmp_path / "csv" / "datapackage.json").is_file()
    rows = (tmp_path / "csv" / "services.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + len(services)


def _passage_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                  home: Path, *args: str) -> tuple[int, str, str]:
    """`passage ARGS` in this process: for commands that would load the offline gazetteer
    (seconds per process) only to answer a corner case."""
    from bot.cli import main

    monkeypatch.setenv("PASSAGE_HOME", str(home))
    monkeypatch.setattr(encryption, "_current", encryption._current)
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(("args", "says"), [
    (["--near", MADRID, "--need", "sheltr"], "passage: unknown need 'sheltr'; needs are: "
     + ", ".join(NEEDS)),
    (["--near", "40.4168", "--need", "shelter"], "expected LAT,LON such as 40.4168,-3.7038"),
])
def test_search_mistakes_are_one_clear_line(home, args, says):
    done = run_passage(home.path, "directory", "search", *args)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert says in line
    assert done.stdout == ""


def test_an_unknown_city_is_asked_about_not_guessed(home, monkeypatch, capsys):
    status, out, err = _passage_here(monkeypatch, capsys, home.path, "directory", "search",
                                     "--city", "Atlantisxx", "--need", "shelter", "--json")
    assert status == 2 and out == ""
    assert err.splitlines() == ["passage: unknown place 'Atlantisxx': try the city's name in "
                                "English, or give --near LAT,LON"]


PLAIN_TIMES = """\
name: Consultorio Jurídico de Tarde
status: active
schedules:
  - {id: 7f2e9c74-5c6a-4b66-9c9a-2f8b3d4e5c01, freq: WEEKLY, byday: "MO,WE",
     opens_at: 09:00, closes_at: 17:00}
"""


def test_a_yaml_snippet_with_plain_times_keeps_them(home, tmp_path, monkeypatch, capsys):
    """Admins write `closes_at: 17:00` as HSDS shows it; YAML 1.1 would read 1020."""
    snippet = tmp_path / "plain-times.yml"
    snippet.write_text(PLAIN_TIMES, encoding="utf-8")
    status, out, err = _passage_here(monkeypatch, capsys, home.path, "directory", "add",
                                     str(snippet))
    assert status == 0, err
    status, out, err = _passage_here(monkeypatch, capsys, home.path, "directory", "show",
                                     out.split()[-1].rstrip("."))
    [schedule] = json.loads(out)["schedules"]
    assert (schedule["opens_at"], schedule["closes_at"]) == ("09:00", "17:00")


def test_filters_leave_out_who_a_place_does_not_serve(home, added):
    cases = {  # filter: is the men-only, 18+, step-free, paying, Tagalog-speaking place found?
        ("--gender", "male", "--age", "30"): True,
        ("--gender", "female"): False,
        ("--age", "16"): False,
        ("--free",): False,
        ("--accessible",): True,
        ("--language", "tl"): True,
    }
    runs = _run_together(home.path, *(_search("--need", "shelter", *args) for args in cases))
    found = {args: _json(done) for args, done in zip(cases, runs, strict=True)}
    for args, expected in cases.items():
        assert found[args], args  # other shelters are still there for everyone
        assert (added.men_only in {r["service_id"] for r in found[args]}) is expected, args
    assert [r["service_id"] for r in found[("--accessible",)]] == [added.men_only]
    assert all(r["free"] for r in found[("--free",)])
    assert all("tl" in r["languages"] for r in found[("--language", "tl")])


@pytest.mark.parametrize(("moment", "open_now"), [
    (datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc), True),  # Wednesday 10:30 in Madrid
    (datetime(2026, 3, 7, 11, 0, tzinfo=timezone.utc), False),  # Saturday noon in Madrid
    (datetime(2026, 3, 4, 17, 30, tzinfo=timezone.utc), False),  # Wednesday 18:30 in Madrid
])
def test_open_now_follows_the_weekly_hours_in_local_time(home, added, monkeypatch, moment,
                                                         open_now):
    from bot.bootstrap import open_storage

    monkeypatch.setattr(encryption, "_current", encryption._current)
    engine = open_storage(Settings.from_env({"PASSAGE_HOME": str(home.path)}))
    try:
        madrid = Near(*map(float, MADRID.split(",")))
        everything = {m.service_id: m for m in search(engine, "shelter", madrid, limit=50,
                                                      now=moment)}
        assert everything[added.men_only].open_now is open_now
        open_places = search(engine, "shelter", madrid, SearchFilters(open_now=True), limit=50,
                             now=moment)
        assert open_places and all(m.open_now for m in open_places)  # 24/7 shelters stay
        assert (added.men_only in {m.service_id for m in open_places}) is open_now
    finally:
        engine.dispose()
