"""`passage train`: the Rasa model from dialogues/ and config.yml."""

from __future__ import annotations

from pathlib import Path

from bot.settings import PROJECT_ROOT

DIALOGUES = PROJECT_ROOT / "dialogues"


class TrainingError(Exception):
    pass


def train_model(out: Path) -> Path:
    from rasa.model_training import train

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
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
    return Path(result.model)
