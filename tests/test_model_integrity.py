"""The model file is code (pickled and skops objects): Passage loads only the model whose
SHA-256 `passage train` recorded beside it, and refuses any other with one line."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.training import check_model_hash, hash_file_of, record_model_hash, sha256_of

PASSAGE = str(Path(sys.executable).with_name("passage"))
STARTUP_SECONDS = 120


@pytest.fixture(scope="module")
def trained_copy(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Path:
    """A copy of the session's model with its hash recorded, as `passage train` leaves it."""
    copy = tmp_path_factory.mktemp("models") / "passage.tar.gz"
    shutil.copyfile(model_path, copy)
    record_model_hash(copy)
    return copy


def _swapped(trained: Path, folder: Path, keep_hash: bool) -> Path:
    """The trained model with one byte added (what an attacker's model looks like to the
    hash), with the trained model's hash file beside it, or none."""
    swapped = folder / "passage.tar.gz"
    shutil.copyfile(trained, swapped)
    with open(swapped, "ab") as handle:
        handle.write(b"\0")
    if keep_hash:
        shutil.copyfile(hash_file_of(trained), hash_file_of(swapped))
    return swapped


@pytest.mark.parametrize("keep_hash", [True, False], ids=["different hash", "no hash file"])
@pytest.mark.parametrize("command", [["chat"], ["understand", "--jsonl", "-"]],
                         ids=["passage chat", "passage understand"])
def test_a_swapped_model_is_refused_in_one_line(trained_copy, tmp_path, command, keep_hash):
    swapped = _swapped(trained_copy, tmp_path, keep_hash)
    env = {**os.environ, "PASSAGE_HOME": str(tmp_path / "home"), "PASSAGE_MODEL": str(swapped)}
    subprocess.run([PASSAGE, "keys", "init"], env=env, check=True, capture_output=True,
                   timeout=STARTUP_SECONDS)
    done = subprocess.run([PASSAGE, *command], input='{"text": "hola"}\n', capture_output=True,
                          text=True, env=env, timeout=STARTUP_SECONDS)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    found = "does not match its recorded hash" if keep_hash else "has no recorded hash"
    assert line.startswith(f"passage: the model {swapped} {found}")
    assert "passage train" in line and f"sha256sum {swapped} > {hash_file_of(swapped)}" in line
    assert done.stdout == ""  # nothing was understood with it


def test_the_trained_model_with_its_hash_is_accepted(trained_copy):
    check_model_hash(trained_copy)  # raises when refused
    recorded = hash_file_of(trained_copy).read_text(encoding="utf-8")
    assert recorded == f"{sha256_of(trained_copy)}  passage.tar.gz\n"  # sha256sum's format


def test_passage_train_records_the_hash_beside_the_model(tmp_path, monkeypatch):
    """`passage train` (Rasa's training stood in for: it writes a model file) leaves the
    model and its hash owner-only, and the model it wrote is accepted."""
    import rasa.model_training

    from bot.training import train_model

    def fake_train(output: str, fixed_model_name: str, **_: object) -> SimpleNamespace:
        model = Path(output) / f"{fixed_model_name}.tar.gz"
        model.write_bytes(b"a model")
        return SimpleNamespace(code=0, model=str(model))

    monkeypatch.setattr(rasa.model_training, "train", fake_train)
    model = train_model(tmp_path / "models" / "passage.tar.gz")
    check_model_hash(model)
    assert hash_file_of(model).read_text(encoding="utf-8").split()[0] == sha256_of(model)
    for path in (model, hash_file_of(model)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(model.parent.stat().st_mode) == 0o700
