"""Where Passage keeps things, from the environment (the contract in docs and README)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    # Secrets stay out of repr(): a Settings printed in a traceback or a log line shows none.
    database_url: str = field(repr=False)
    key_file: Path
    model_path: Path
    telegram_token: str | None = field(repr=False)
    telegram_base_url: str | None
    redis_url: str | None = field(repr=False)  # several workers: locks and rate limits in Redis
    desk_config: Path
    retention_days: float
    safe_word: str | None = field(repr=False)
    webhook_url: str | None  # set: Telegram posts updates to Passage instead of being polled
    listen: tuple[str, int]  # where the webhook server listens (behind the load balancer)
    webhook_secret: str | None  # checked on every webhook request (X-Telegram-Bot-Api-...)
    send_rate: float  # messages a second the whole bot sends at most (0: no limit)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("PASSAGE_HOME") or "./var").resolve()
        with contextlib.suppress(OSError):  # a home that cannot be made: the step using it says
            private_folder(home, tighten=True)
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
            webhook_url=env.get("PASSAGE_WEBHOOK_URL") or None,
            listen=_host_port(env.get("PASSAGE_LISTEN") or DEFAULT_LISTEN),
            webhook_secret=_webhook_secret(env),
            send_rate=_number(env, "PASSAGE_SEND_RATE", 30, "messages a second", minimum=0),
        )


def private_folder(path: Path, tighten: bool = False) -> Path:
    """`mkdir -p path`, every folder it makes readable by its owner only (0700), whatever the
    umask. tighten: the folder, if it was there already, is made owner-only too (PASSAGE_HOME
    holds the database, key file and model, and was once made 0755)."""
    path = Path(path)
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder in missing:
        os.chmod(folder, 0o700)
    if tighten and not missing and os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing, and make it readable and writable by its owner only
    (0600), in a private folder: SQLite then creates its -wal, -shm and -journal files with the
    database file's mode."""
    path = Path(path)
    private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for existing in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm",
                                                                         "-journal"))):
        with contextlib.suppress(FileNotFoundError, PermissionError):  # not ours: as it is
            if os.stat(existing).st_mode & 0o077:
                os.chmod(existing, 0o600)
    return path


DEFAULT_LISTEN = "127.0.0.1:8443"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _host_port(value: str) -> tuple[str, int]:
    """"host:port", "[::1]:8443" or ":8443" (every interface)."""
    from bot.errors import UsageError

    host, colon, port = value.strip().rpartition(":")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - ":8443" asks for every interface
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"PASSAGE_LISTEN must be host:port (e.g. 127.0.0.1:8443), got {value!r}")
    return host, int(port)


def _webhook_secret(env: Mapping[str, str]) -> str | None:
    """PASSAGE_WEBHOOK_SECRET, or one derived from the bot token: every worker of the same
    bot arrives at the same secret without one more thing to configure, and nobody without
    the token can forge an update."""
    from bot.errors import UsageError

    secret = env.get("PASSAGE_WEBHOOK_SECRET") or ""
    if secret and not _SECRET_RE.fullmatch(secret):
        raise UsageError("PASSAGE_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
    token = env.get("TELEGRAM_BOT_TOKEN") or ""
    if secret or not token:
        return secret or None
    return hmac.new(token.encode(), b"passage webhook secret", hashlib.sha256).hexdigest()


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, "days")


def _number(env: Mapping[str, str], name: str, default: float, unit: str,
            minimum: float | None = None) -> float:
    """A number from the environment: more than 0, or at least ``minimum``."""
    from bot.errors import UsageError

    try:
        value = float(env.get(name) or default)
    except ValueError:
        raise UsageError(f"{name} must be a number of {unit}, got {env.get(name)!r}") from None
    if minimum is None and value <= 0:
        raise UsageError(f"{name} must be more than 0")
    if minimum is not None and value < minimum:
        raise UsageError(f"{name} must be at least {minimum:g}")
    return value
