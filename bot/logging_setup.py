"""Logging that never carries what survivors write.

Rasa's policies and processor log user text at DEBUG (through logging and structlog);
python-telegram-bot logs whole updates (``Received data was %r`` at CRITICAL when one cannot
be parsed, every Bot API call and answer at DEBUG); SQLAlchemy logs bound parameters. So every
record of a library logger (QUIET_LOGGERS and their children) is cut down when it is made, at
any level: its arguments become ``…`` (an exception argument its type's name), a traceback
becomes the exception's type, and below WARNING a Rasa line, whose text is often an f-string
of what someone wrote, is hidden whole. It is done in the record factory because a logger's
filter does not see its children's records and a handler's filter misses handlers added later
(an operator's, pytest's). Rasa's structlog events keep their name only. And Rasa sends
telemetry unless told not to. Call this before Rasa is imported.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable

QUIET_LOGGERS = (
    "rasa", "rasa_sdk", "telegram", "httpx", "httpcore", "apscheduler", "tensorflow", "absl",
    "sanic", "matplotlib", "urllib3", "aiohttp", "h5py", "asyncio", "sqlalchemy", "py.warnings",
    "alembic", "tornado", "redis",
)
TEXT_IN_MESSAGES = ("rasa", "rasa_sdk")  # f-strings with what someone wrote, below WARNING
HIDDEN = "…"
_CONVERSION = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")


def _is_library(name: str) -> bool:
    return any(name == quiet or name.startswith(quiet + ".") for quiet in QUIET_LOGGERS)


def _shape_only(message: str, args: object) -> str:
    """The format string with each argument hidden, an exception shown by its type."""
    values = iter(args if isinstance(args, tuple) else ())

    def hide(match: re.Match[str]) -> str:
        if match.group(1) == "%":
            return "%"
        value = next(values, None)
        return type(value).__name__ if isinstance(value, BaseException) else HIDDEN

    return _CONVERSION.sub(hide, message)


def without_contents(record: logging.LogRecord) -> logging.LogRecord:
    """A library's record cut down to what cannot carry an update, a parameter or a local."""
    if not isinstance(record.msg, str):
        record.msg = type(record.msg).__name__
    elif record.levelno < logging.WARNING and record.name.split(".")[0] in TEXT_IN_MESSAGES:
        record.msg = f"({record.name}'s line hidden: it may carry what someone wrote)"
    elif record.args:
        record.msg = _shape_only(record.msg, record.args)
    record.args = ()
    if record.exc_info:
        error = record.exc_info[1]
        record.msg = f"{record.msg} ({type(error).__name__})"
        record.exc_info, record.exc_text = None, None
    record.stack_info = None
    return record


def _record_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make(*args, **kwargs)
        return without_contents(record) if _is_library(record.name) else record

    factory.without_contents = True  # type: ignore[attr-defined]
    return factory


def _event_name_only(_logger: object, _method: str, event: dict) -> dict:
    return {"event": event.get("event", ""), "level": event.get("level", _method)}


def configure_logging(level: int = logging.INFO) -> None:
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # Rasa's own default level
    # Library deprecation notices are for us, not for operators; our own code stays loud.
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", module=r"(rasa|tensorflow|keras|jax|sqlalchemy)(\.|$)")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if not getattr(logging.getLogRecordFactory(), "without_contents", False):
        logging.setLogRecordFactory(_record_factory(logging.getLogRecordFactory()))
    import structlog

    structlog.configure(
        processors=[structlog.processors.add_log_level, _event_name_only,
                    structlog.processors.TimeStamper(fmt="iso"),
                    structlog.dev.ConsoleRenderer(colors=False)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
