"""`passage train`: the Rasa model from dialogues/ and config.yml, and the model's recorded hash.

A Rasa model is a tar of pickled and skops-serialised objects: loading one runs code. So
`passage train` records the SHA-256 of the model it writes in a file beside it
(``passage.tar.gz.sha256``, the format of ``sha256sum``), and Passage refuses to load a model
whose hash is missing or different: whoever can swap the model file, but not its hash file
too, cannot run code in the bot.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bot.errors import ModelNotFoundError, UsageError
from bot.settings import PROJECT_ROOT, private_folder
from encryption.master_key import replace_private

DIALOGUES = PROJECT_ROOT / "dialogues"
_READ_BYTES = 1 << 20


class TrainingError(Exception):
    pass


class ModelHashMismatch(UsageError):
    """The model file's SHA-256 is not the one recorded when it was trained (or none was)."""


def train_model(out: Path) -> Path:
    from rasa.model_training import train

    out = Path(out).resolve()
    private_folder(out.parent)
    result = train(
        domain=str(DIALOGUES / "domain.yml"),
        config=str(PROJECT_ROOT / "config.yml"),
        training_files=[str(DIALOGUES / "nlu"), str(DIALOGUES / "rules.yml")],
        output=str(out.parent),
        fixed_model_name=out.name.removesuffix(".tar.gz"),
        force_training=True,
    )
    if result.code != 0 or not result.model:
        raise TrainingError(f"training failed (code {result.code})")
    model = Path(result.model)
    os.chmod(model, 0o600)
    record_model_hash(model)
    return model


def hash_file_of(model: Path) -> Path:
    """Where the model's recorded SHA-256 is kept: beside it, its name + ".sha256"."""
    model = Path(model)
    return model.with_name(model.name + ".sha256")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_READ_BYTES):
            digest.update(block)
    return digest.hexdigest()


def record_model_hash(model: Path) -> Path:
    """Write the model's SHA-256 beside it (owner-only, like the model); returns that file."""
    model = Path(model)
    hash_file = hash_file_of(model)
    replace_private(hash_file, f"{sha256_of(model)}  {model.name}\n")  # never half-written
    return hash_file


def check_model_hash(model: Path) -> None:
    """Refuse (ModelHashMismatch, one line saying how to fix it) a model whose SHA-256 is not
    the one recorded beside it when it was trained."""
    model = Path(model)
    if not model.is_file():
        raise ModelNotFoundError(f"no trained model at {model} (train one with `passage train`)")
    hash_file = hash_file_of(model)
    try:
        recorded = hash_file.read_text(encoding="utf-8").split()[0].lower()
    except (FileNotFoundError, IndexError, UnicodeDecodeError):
        recorded = None
    except OSError as error:
        raise ModelHashMismatch(f"cannot read {hash_file}: {error.strerror}") from None
    if recorded is None or recorded != sha256_of(model):
        found = "has no recorded hash" if recorded is None else "does not match its recorded hash"
        raise ModelHashMismatch(
            f"the model {model} {found} ({hash_file}), so it may have been replaced and is not "
            f"loaded (a model runs code): retrain with `passage train`, or, if you trained this "
            f"very file, record its hash with `sha256sum {model} > {hash_file}`")
