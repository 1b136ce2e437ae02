"""The repository is all the tests need: a clone anywhere runs them, with nothing beside it."""

from __future__ import annotations

import re
import subprocess

from bot.settings import PROJECT_ROOT
from tests.services_directory.conftest import HSDS_EXAMPLES

# A path built to leave the repository: the parent of its root, or the sibling `shared` folder.
OUTSIDE = re.compile(r"""PROJECT_ROOT\.parent\b|["']\.\./shared|/work/shared|/\s*["']shared["']""")


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, check=True)
    return listed.stdout.split()


def test_the_hsds_examples_ship_inside_the_repository_with_their_licence():
    assert HSDS_EXAMPLES.resolve().is_relative_to(PROJECT_ROOT.resolve())
    assert (HSDS_EXAMPLES / "csv" / "datapackage.json").is_file()
    notice = (HSDS_EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in notice and "Open Referral" in notice
    assert "Attribution-ShareAlike 4.0" in (HSDS_EXAMPLES / "LICENSE").read_text(encoding="utf-8")


def test_no_code_or_test_reads_outside_the_repository():
    readers = [name for name in tracked_files()
               if name.endswith((".py", ".cfg", ".toml", ".yml", ".sh"))
               or name in ("Makefile", ".ci/run")
               if name != "tests/test_self_contained.py"  # its pattern, not a path it reads
               and OUTSIDE.search((PROJECT_ROOT / name).read_text(encoding="utf-8"))]
    assert readers == []
