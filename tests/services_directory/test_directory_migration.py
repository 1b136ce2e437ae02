"""A directory imported before names were encrypted (revision 0007's parent) is encrypted in
place on the next start: afterwards the file holds no organisation name or website, and staff
see exactly what they saw before."""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.migrations import alembic_config
from bot.storage import all_metadata
from encryption import KeyFileError
from services_directory.export import export_json
from services_directory.importer import import_path
from tests.on_disk import raw_database
from tests.services_directory.conftest import SAMPLE, run_passage

ORGANISATION, WEBSITE = "Fundación Alcázar de Luz", "https://alcazardeluz.example.org"


def _before_0007(directory, key_file=None) -> None:  # noqa: ANN001 - a Directory
    """Take the database back to the revision before names were encrypted."""
    config = alembic_config()
    parent = ScriptDirectory.from_config(config).get_revision("0007").down_revision
    with directory.engine.begin() as connection:
        config.attributes.update(connection=connection, key_file=key_file)
        command.downgrade(config, parent)
    directory.engine.dispose()  # on disk as an older Passage leaves it


@pytest.fixture
def older_directory(new_directory, tmp_path):  # noqa: ANN001, ANN201 - a Directory
    """The sample as an older Passage stored it (names plain), with its export from then."""
    directory = new_directory()
    assert import_path(directory.engine, SAMPLE).imported
    export_json(directory.engine, tmp_path / "before.json")
    _before_0007(directory, directory.settings.key_file)
    raw = raw_database(directory.database_file)
    assert ORGANISATION.encode() in raw and WEBSITE.encode() in raw  # what main left
    return directory


def test_names_are_encrypted_in_place_and_staff_see_the_same(older_directory, tmp_path):
    home = older_directory.settings.home
    for command_args in (["directory", "stats"], ["directory", "export", "--out",
                                                  str(tmp_path / "after.json")]):
        done = run_passage(home, *command_args)
        assert done.returncode == 0, done.stderr
    before = json.loads((tmp_path / "before.json").read_text(encoding="utf-8"))
    after = json.loads((tmp_path / "after.json").read_text(encoding="utf-8"))
    assert after == before
    raw = raw_database(older_directory.database_file)
    assert ORGANISATION.encode() not in raw and WEBSITE.encode() not in raw
    shown = json.loads(run_passage(home, "directory", "show", before[0]["id"]).stdout)
    assert shown["organization"]["name"] == before[0]["organization"]["name"]
    with older_directory.engine.connect() as connection:  # the tables are the models' now
        differences = compare_metadata(MigrationContext.configure(
            connection, opts={"compare_type": True}), all_metadata())
    assert [d for d in differences if d[0] != "remove_table"  # SQLite's own sqlite_sequence
            or d[1].name != "sqlite_sequence"] == []


def test_without_the_key_file_nothing_is_changed(older_directory):
    from bot.storage import create_tables

    with pytest.raises(KeyFileError):
        create_tables(older_directory.engine)  # no key file given
    older_directory.engine.dispose()
    assert ORGANISATION.encode() in raw_database(older_directory.database_file)


def test_the_pages_that_held_names_are_overwritten_where_sqlite_would_keep_them(
        older_directory):
    """Some SQLite builds leave deleted content in free pages (secure_delete off by default,
    unlike Debian's): the upgrade turns it on, so the old plain pages are zeroed."""
    from sqlalchemy import event

    from bot.storage import create_tables, make_engine

    engine = make_engine(older_directory.settings.database_url)

    @event.listens_for(engine, "connect")
    def _keep_deleted_content(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.execute("PRAGMA secure_delete = OFF")

    create_tables(engine, older_directory.settings.key_file)
    engine.dispose()
    raw = raw_database(older_directory.database_file)
    assert ORGANISATION.encode() not in raw and WEBSITE.encode() not in raw
