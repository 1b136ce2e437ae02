"""Where Passage keeps things, from the environment (the contract in ../shared/GUIDE.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    key_file: Path
    model_path: Path
    telegram_token: str | None
    telegram_base_url: str | None
    redis_url: str | None  # several workers: conversation locks (and rate limits) in Redis
    desk_config: Path
    retention_days: float
    safe_word: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("PASSAGE_HOME") or "./var").resolve()
        return cls(
            home=home,
            database_url=env.get("PASSAGE_DATABASE_URL") or f"sqlite:///{home / 'passage.db'}",
            key_file=Path(env.get("PASSAGE_KEY_FILE") or home / "master.key"),
            model_path=Path(env.get("PASSAGE_MODEL") or home / "models" / "passage.tar.gz"),
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            redis_url=env.get("PASSAGE_REDIS_URL") or None,
            desk_config=Path(env.get("PASSAGE_DESK_CONFIG") or PROJECT_ROOT / "desk.yml"),
            retention_days=_positive(env, "PASSAGE_RETENTION_DAYS", 30),
            safe_word=(env.get("PASSAGE_SAFE_WORD") or "").strip() or None,
        )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    from bot.errors import UsageError

    try:
        value = float(env.get(name) or default)
    except ValueError:
        raise UsageError(f"{name} must be a number of days, got {env.get(name)!r}") from None
    if value <= 0:
        raise UsageError(f"{name} must be more than 0")
    return value
