"""Someone who copies the database file learns no secret place: the raw bytes hold no name of a
confidential service, no address, no phone number and no coordinate of any location."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage import all_metadata
from encryption import DecryptionError
from encryption.columns import encrypted_columns
from services_directory import hsds
from services_directory.importer import import_path
from tests.on_disk import raw_database
from tests.services_directory.conftest import SAMPLE


def _walk(value: object, key: str = ""):  # noqa: ANN202 - yields (key, value) pairs
    if isinstance(value, dict):
        for name, item in value.items():
            yield name, item
            yield from _walk(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)


def _locations(services: list[dict]) -> list[dict]:
    return [link["location"] for service in services
            for link in service.get("service_at_locations") or [] if link.get("location")]


def secrets_of_the_sample() -> dict[str, str]:
    """Each secret in the sample, exactly as written there (coordinates with their own
    digits), with what it is."""
    text = SAMPLE.read_text(encoding="utf-8")
    services = json.loads(text, parse_float=str)  # "40.41" stays "40.41", "-3.7" stays "-3.7"
    secrets: dict[str, str] = {}
    for service in services:
        locations = _locations([service])
        if any(str(location.get("confidential")).lower() == "true" for location in locations):
            secrets[service["name"]] = "name of a confidential service"
            secrets.update({location["name"]: "name of a confidential location"
                            for location in locations if location.get("name")})
    for location in _locations(services):
        for axis in ("latitude", "longitude"):
            secrets[str(location[axis])] = f"{axis} of location {location['id']}"
        # Stored as a number, a coordinate would be its 8-byte double (text: latin-1 bytes).
        secrets[struct.pack("<d", float(location["latitude"])).decode("latin-1")] = (
            f"latitude of location {location['id']} as a stored number")
        for address in location.get("addresses") or []:
            for line in ("address_1", "address_2"):
                if address.get(line):
                    secrets[address[line]] = "address line"
    for key, value in _walk(services):
        if key == "phones":
            secrets.update({phone["number"]: "phone number" for phone in value})
        if key == "organization":
            secrets[value["name"]] = "name of an organisation"
            if value.get("website"):
                secrets[value["website"]] = "website of an organisation"
    return secrets


MIN_TELLING_BYTES = 6


def _bytes(secret: str, kind: str) -> bytes:
    return secret.encode("latin-1") if kind.endswith("as a stored number") else secret.encode()


def _ciphertexts(database_file: Path) -> list[bytes]:
    with sqlite3.connect(database_file) as connection:
        return [bytes(blob) for table, column in encrypted_columns(all_metadata())
                for (blob,) in connection.execute(f'SELECT "{column.name}" FROM "{table.name}" '
                                                  f'WHERE "{column.name}" IS NOT NULL')]


@pytest.fixture(scope="module")
def sample_directory(module_directory):  # noqa: ANN001, ANN201 - a Directory
    directory = module_directory("sample")
    assert import_path(directory.engine, SAMPLE).imported
    return directory


def test_the_secrets_checked_cover_every_location_of_the_sample():
    secrets = secrets_of_the_sample()
    kinds = list(secrets.values())
    assert kinds.count("name of a confidential service") >= 9
    assert kinds.count("address line") >= 40
    assert kinds.count("phone number") >= 40
    assert kinds.count("name of an organisation") >= 20
    assert {"40.41", "-3.7", "Casa Alba safe house", "Calle de Embajadores 41",
            "+34 91 000 0017", "Fundación Alcázar de Luz",
            "https://alcazardeluz.example.org"} <= set(secrets)


def test_the_raw_database_file_reveals_no_secret_place(sample_directory):
    raw = raw_database(sample_directory.database_file)
    # The scan reads what is really there: what is not secret (an id) is stored as written.
    assert b"77e4c99a-53d3-4f17-a579-bf6879ed2919" in raw
    found = {secret: kind for secret, kind in secrets_of_the_sample().items()
             if len(_bytes(secret, kind)) >= MIN_TELLING_BYTES and _bytes(secret, kind) in raw}
    # A short secret may turn up by chance inside random ciphertext bytes; only a secret
    # found outside every ciphertext is a leak. Shorter than 6 bytes ("-3.7"), a match in
    # 600 kB of random bytes (free pages keep old ciphertexts) is likely enough to make the
    # test flaky: those are covered by the 8-byte form of each coordinate instead.
    ciphertexts = _ciphertexts(sample_directory.database_file)
    leaks = {secret: kind for secret, kind in found.items()
             if not any(_bytes(secret, kind) in blob for blob in ciphertexts)}
    assert leaks == {}


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(sample_directory):
    engine = sample_directory.use()
    address, phone = hsds.TABLES["address"], hsds.TABLES["phone"]
    with sqlite3.connect(sample_directory.database_file) as connection:
        address_id, blob = connection.execute(
            "SELECT id, address_1 FROM hsds_address WHERE address_1 IS NOT NULL").fetchone()
        phone_id = connection.execute("SELECT id FROM hsds_phone").fetchone()[0]
        connection.execute("UPDATE hsds_phone SET number = ? WHERE id = ?", (blob, phone_id))
    with engine.connect() as connection:
        # Where it belongs, the ciphertext reads back ...
        assert connection.execute(select(address.c.address_1).where(
            address.c.id == address_id)).scalar_one()
        # ... in another column, the same bytes are refused.
        with pytest.raises(DecryptionError):
            connection.execute(select(phone.c.number).where(phone.c.id == phone_id)).scalar_one()


# Every name and free text of a service, with a marker that shows up if stored as written.
NAMED_THINGS = {
    ("organization", "name"): "Refugio Marcador de Prueba",
    ("organization", "alternate_name"): "Marcador Alterno Org",
    ("organization", "website"): "https://marcador-refugio.example.org",
    ("organization", "tax_id"): "MARCADOR-TAX-4711",
    ("program", "name"): "Programa Marcador Noche",
    ("service", "url"): "https://marcador-servicio.example.org/cama",
    ("service", "fees"): "Marcador cuota cero",
    ("service", "wait_time"): "Marcador dos noches",
    ("service", "licenses"): "Marcador licencia 99",
    ("attribute", "value"): "Marcador puerta trasera por la calle Oculta",
    ("service_area", "name"): "Barrio Marcador Escondido",
    ("service_area", "uri"): "https://marcador-zona.example.org",
    ("location", "url"): "https://marcador-casa.example.org",
    ("required_document", "document"): "Marcador carta de la trabajadora social",
    ("funding", "source"): "Marcador Fundación Privada",
    ("cost_option", "option"): "Marcador gratis para ellas",
    ("language", "note"): "Marcador intérprete los martes",
    ("taxonomy_term", "name"): "Marcador término casa segura",
}


def _service_with_every_named_thing() -> dict:
    """A confidential shelter whose every name, URL and free text is a marker."""
    text = dict(NAMED_THINGS.items())
    term = {"id": "t-marker", "code": "confidential", "name": text["taxonomy_term", "name"],
            "description": "Marcador descripción del término"}
    return {
        "id": "s-marker", "name": "Casa Marcador", "status": "active",
        "url": text["service", "url"], "fees": text["service", "fees"],
        "wait_time": text["service", "wait_time"], "licenses": text["service", "licenses"],
        "organization": {"id": "o-marker", "name": text["organization", "name"],
                         "alternate_name": text["organization", "alternate_name"],
                         "website": text["organization", "website"],
                         "tax_id": text["organization", "tax_id"],
                         "description": "Marcador descripción"},
        "program": {"id": "p-marker", "organization_id": "o-marker",
                    "name": text["program", "name"], "description": "Marcador programa"},
        "attributes": [{"id": "a-need", "link_type": "need", "value": "shelter",
                        "taxonomy_term": {"id": "t-shelter", "code": "shelter",
                                          "name": "Shelter", "description": "A safe place"}},
                       {"id": "a-marker", "link_type": "note",
                        "value": text["attribute", "value"], "taxonomy_term": term}],
        "service_areas": [{"id": "sa-marker", "name": text["service_area", "name"],
                           "uri": text["service_area", "uri"]}],
        "required_documents": [{"id": "rd-marker",
                                "document": text["required_document", "document"]}],
        "funding": [{"id": "f-marker", "source": text["funding", "source"]}],
        "cost_options": [{"id": "co-marker", "option": text["cost_option", "option"]}],
        "languages": [{"id": "l-marker", "code": "es", "name": "Spanish",
                       "note": text["language", "note"]}],
        "service_at_locations": [{"id": "sal-marker", "location": {
            "id": "loc-marker", "name": "Casa Marcador", "location_type": "physical",
            "url": text["location", "url"], "latitude": 40.42, "longitude": -3.70,
            "confidential": True}}],
    }


def test_no_name_url_or_free_text_of_a_service_is_stored_as_written(new_directory, tmp_path):
    directory = new_directory()
    source = tmp_path / "marked.json"
    source.write_text(json.dumps([_service_with_every_named_thing()]), encoding="utf-8")
    assert import_path(directory.engine, source).imported == 1
    directory.engine.dispose()
    raw = raw_database(directory.database_file)
    assert b"s-marker" in raw and b"loc-marker" in raw  # ids are plain: rows are read by them
    stored_as_written = {where: marker for where, marker in NAMED_THINGS.items()
                         if marker.encode() in raw}
    assert stored_as_written == {}
