"""Passage on PostgreSQL (PASSAGE_DATABASE_URL=postgresql+psycopg2://...): the same migrations,
the same directory answers as on SQLite, nothing secret in the rows, the desk's state machine
with a real claim race, encrypted conversations."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.desk import roster
from bot.desk.config import DeskConfig
from bot.desk.desk import Desk
from bot.desk.models import Case, CaseEvent
from bot.engine.tracker_store import EncryptedSQLTrackerStore
from bot.migrations import alembic_config
from bot.settings import PROJECT_ROOT
from bot.storage import all_metadata
from encryption import FORMAT_VERSION, current
from encryption.columns import encrypted_columns
from encryption.keystore import load_crypto
from encryption.master_key import MasterKey
from services_directory import Near, SearchFilters, search
from services_directory.needs import NEEDS
from services_directory.store import DIRECTORY_TABLES
from tests.backends.availability import POSTGRES_URL
from tests.backends.conftest import with_search_path
from tests.services_directory.test_at_rest import MIN_TELLING_BYTES, secrets_of_the_sample

SUNDAY_NIGHT = datetime(2026, 3, 1, 22, 30, tzinfo=timezone.utc)
# Near the sample's places: Los Angeles, Madrid, Mexico City, Chicago, Manila, London.
PLACES = [Near(34.05, -118.24), Near(40.4168, -3.7038), Near(19.43, -99.13),
          Near(41.8781, -87.6298), Near(14.6, 120.98), Near(51.5072, -0.1276)]


def test_migrations_bring_postgresql_to_the_schema_of_the_models(postgres: Engine):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with postgres.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        differences = compare_metadata(MigrationContext.configure(
            connection, opts={"compare_type": True}), all_metadata())
        tables = set(connection.execute(text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()")).scalars())
    assert differences == []
    assert {t.name for m in all_metadata() for t in m.sorted_tables} < tables


def test_workers_starting_together_on_an_empty_database_migrate_it_once(postgres_schema: str):
    """Three processes, as three workers: each runs the migrations at start-up."""
    schema = f"{postgres_schema}_start"
    admin = create_engine(POSTGRES_URL, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    start = ("import sys; from bot.storage import create_tables, make_engine; "
             "create_tables(make_engine(sys.argv[1]))")
    try:
        workers = [subprocess.Popen([sys.executable, "-c", start,
                                     with_search_path(POSTGRES_URL, schema)],
                                    cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
                   for _ in range(3)]
        failures = [w.communicate(timeout=120)[1] for w in workers if w.wait(timeout=120)]
        assert failures == []
        with admin.connect() as connection:
            assert connection.execute(text(
                f'SELECT count(*) FROM "{schema}".alembic_version')).scalar() == 1
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_directory_answers_on_postgresql_as_on_sqlite(postgres: Engine, database: Engine):
    counts = []
    for engine in (postgres, database):
        with engine.connect() as connection:
            counts.append({table.name: connection.execute(
                select(func.count()).select_from(table)).scalar_one()
                for table in DIRECTORY_TABLES})
    assert counts[0] == counts[1] and sum(counts[0].values()) > 0
    found = 0
    for near in PLACES:
        for need in (*NEEDS, None):
            on_postgres = search(postgres, need, near, limit=5, now=SUNDAY_NIGHT)
            assert on_postgres == search(database, need, near, limit=5, now=SUNDAY_NIGHT)
            found += len(on_postgres)
        for filters in (SearchFilters(languages=("es",)), SearchFilters(open_now=True)):
            assert (search(postgres, None, near, filters, limit=10, now=SUNDAY_NIGHT)
                    == search(database, None, near, filters, limit=10, now=SUNDAY_NIGHT))
    assert found > 100  # the comparison compared something


def test_the_keys_live_on_postgresql(postgres: Engine, settings):  # noqa: ANN001 - Settings
    crypto = load_crypto(postgres, MasterKey.load(settings.key_file))
    assert crypto.pseudonym("telegram-chat", 42) == current().pseudonym("telegram-chat", 42)


def _leaked(secret: str, kind: str, values: list, numbers: list[float]) -> bool:
    """A coordinate leaks as that number in a floating-point column; any secret as a text
    containing it (6 bytes or more: "34.08" is also inside a timestamp such as 07:22:34.081)."""
    if kind.startswith(("latitude", "longitude")) and float(secret) in numbers:
        return True
    return any(isinstance(v, str) and (v == secret or (
        len(secret.encode()) >= MIN_TELLING_BYTES and secret in v)) for v in values)


def test_no_secret_place_is_readable_in_the_postgresql_rows(postgres: Engine):
    """Every value of every row as PostgreSQL gives it out, and the raw bytes of every
    encrypted column: no confidential name, address, phone or coordinate."""
    secrets = {s: kind for s, kind in secrets_of_the_sample().items()
               if not kind.endswith("as a stored number")}
    with postgres.connect() as connection:
        rows = [(table.name, json.loads(row)) for metadata in all_metadata()
                for table in metadata.sorted_tables for row in connection.execute(text(
                    f'SELECT row_to_json(t)::text FROM "{table.name}" t')).scalars()]
        blobs = {f"{table.name}.{column.name}": [bytes(b) for b in connection.execute(text(
            f'SELECT "{column.name}" FROM "{table.name}" WHERE "{column.name}" IS NOT NULL'))
            .scalars()] for table, column in encrypted_columns(all_metadata())}
        types = dict(connection.execute(text(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema()")).all())
    values = [value for _, row in rows for value in row.values()]
    numbers = [float(value) for table, row in rows for name, value in row.items()
               if value is not None and types[f"{table}.{name}"] in ("double precision", "real")]
    assert "77e4c99a-53d3-4f17-a579-bf6879ed2919" in values  # not secret (an id): as written
    assert {name: types[name] for name in blobs} == dict.fromkeys(blobs, "bytea")
    assert sum(len(column) for column in blobs.values()) > 500
    assert all(blob[0] == FORMAT_VERSION for column in blobs.values() for blob in column)
    leaks = {secret: kind for secret, kind in secrets.items()
             if _leaked(secret, kind, values, numbers)
             or (len(secret.encode()) >= MIN_TELLING_BYTES and any(
                 secret.encode() in blob for column in blobs.values() for blob in column))}
    assert leaks == {}


async def test_the_desk_on_postgresql_one_claim_wins_and_the_chat_is_relayed(postgres: Engine):
    desk = Desk(postgres, DeskConfig.load(PROJECT_ROOT / "desk.yml"))
    ana, ben = 7_000_001, 7_000_002
    roster.add(postgres, ana, "Ana", "es,en", None, "caseworker")
    roster.add(postgres, ben, "Ben", "en,es", None, "caseworker")
    for worker in (ana, ben):
        await desk.caseworker_command(worker, "/duty", "on")
    for round_ in range(3):  # a race can be won by chance once; three in a row, not
        survivor, chat = f"pg-survivor-{round_}", 8_000_000 + round_
        assert (await desk.consent(survivor, chat, "es", {"need": "shelter", "area": "Madrid"})
                )["message"] == "handoff_summary"
        queued = await desk.enqueue(survivor, True, "ES")
        assert queued["message"] == "handoff_queued" and queued["position"] == 1
        assert await desk.case_status(survivor) == "waiting"
        with Session(postgres) as session:
            case = session.execute(select(Case.id).where(Case.survivor == survivor)).scalar_one()

        # Both press "claim" at the same moment: two threads, two connections.
        results = await asyncio.gather(*(desk.caseworker_command(w, "/claim", str(case))
                                         for w in (ana, ben)))
        outcomes = sorted(replies[0]["message"] for _, replies in results)
        assert outcomes == ["desk_claim_lost", "desk_claimed"]
        winner = next(member for member, replies in results
                      if replies[0]["message"] == "desk_claimed")
        assert await desk.case_status(survivor) == "claimed"

        await desk.survivor_writes(survivor, "necesito un lugar seguro esta noche",
                                   f"pg-{round_}-1", False)
        await desk.caseworker_writes(winner.user_id, "Hola, estoy aquí para ayudarte")
        sent = [(o.chat_id, o.message["message"], o.message.get("text"))
                for o in await desk.pending(1000)]
        assert (winner.user_id, "desk_relay", "necesito un lugar seguro esta noche") in sent
        assert (chat, "handoff_relay", "Hola, estoy aquí para ayudarte") in sent
        for outgoing in await desk.pending(1000):
            await desk.delivered(outgoing.id, None)

        await desk.caseworker_command(winner.user_id, "/close", "")
        assert await desk.case_status(survivor) is None
        with Session(postgres) as session:
            kinds = session.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case)
                                    .order_by(CaseEvent.id)).scalars().all()
        assert kinds == ["consented", "queued", "claimed", "closed:caseworker"]
    with postgres.connect() as connection:
        bodies = connection.execute(text("SELECT body FROM desk_case_messages")).scalars().all()
    assert bodies and not any(b"lugar seguro" in bytes(body) for body in bodies)


async def test_conversations_are_kept_encrypted_on_postgresql(postgres: Engine, passage):  # noqa: ANN001
    store = EncryptedSQLTrackerStore(postgres, passage._engine._agent.domain)
    events = [ActionExecuted("action_listen"),
              UserUttered("vivo en la Calle Escondida 12", {"name": "inform_place",
                                                            "confidence": 1.0}),
              SlotSet("need", "shelter"), ActionExecuted("action_listen")]
    await store.save(DialogueStateTracker.from_events("pg-tracker", events, store.domain.slots))
    again = await store.retrieve("pg-tracker")
    assert again is not None and again.get_slot("need") == "shelter"
    assert [e.as_dict()["event"] for e in again.events] == [e.as_dict()["event"] for e in events]
    assert again.latest_message.text == "vivo en la Calle Escondida 12"
    assert "pg-tracker" in await store.keys()
    with postgres.connect() as connection:
        raw = bytes(connection.execute(text(
            "SELECT tracker FROM conversations WHERE pseudonym = 'pg-tracker'")).scalar_one())
    assert b"Escondida" not in raw and b"shelter" not in raw and raw[0] == FORMAT_VERSION
    await store.delete("pg-tracker")
    assert await store.retrieve("pg-tracker") is None
