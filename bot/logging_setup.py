"""Logging that never carries what survivors write.

Rasa's policies and processor log user text at DEBUG (through logging and structlog), and
Rasa sends telemetry unless told not to. Call this before Rasa is imported.
"""

from __future__ import annotations

import logging
import os
import warnings

QUIET_LOGGERS = (
    "rasa", "rasa_sdk", "telegram", "httpx", "httpcore", "apscheduler", "tensorflow", "absl",
    "sanic", "matplotlib", "urllib3", "aiohttp", "h5py", "asyncio", "sqlalchemy", "py.warnings",
    "alembic", "tornado",
)
# python-telegram-bot logs the body of a webhook request it cannot parse (what someone wrote).
SILENT_LOGGERS = ("telegram.ext._utils.webhookhandler",)


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
    for name in SILENT_LOGGERS:
        logging.getLogger(name).disabled = True
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
