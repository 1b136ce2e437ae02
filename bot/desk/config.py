"""The desk's configuration (desk.yml): organisations, their usual hours, timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.errors import UsageError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Organization:
    name: str
    timezone: str
    hours: tuple[dict[str, Any], ...]  # [{"days": [0..6], "opens": "09:00", "closes": "17:00"}]


@dataclass(frozen=True)
class DeskConfig:
    organizations: tuple[Organization, ...]
    notify_everyone_after: timedelta
    escalate_after: timedelta
    remind_idle_after: timedelta

    @classmethod
    def load(cls, path: Path) -> DeskConfig:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            timeouts = data.get("timeouts") or {}
            return cls(
                organizations=tuple(_organization(o) for o in data.get("organizations") or []),
                notify_everyone_after=timedelta(minutes=float(
                    timeouts.get("notify_everyone_after", 3))),
                escalate_after=timedelta(minutes=float(timeouts.get("escalate_after", 10))),
                remind_idle_after=timedelta(minutes=float(timeouts.get("remind_idle_after", 15))),
            )
        except OSError as error:
            raise UsageError(f"cannot read the desk configuration {path}: "
                             f"{error.strerror}") from None
        except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise UsageError(f"{path}: not a valid desk configuration ({error})") from None

    def organization(self, name: str | None) -> Organization | None:
        return next((o for o in self.organizations if o.name == name), None)


def _organization(data: dict[str, Any]) -> Organization:
    hours = []
    for block in data.get("hours") or []:
        days = [DAYS.index(str(day).lower()[:3]) for day in block["days"]]
        opens, closes = str(block["opens"]), str(block["closes"])
        if not (len(opens) == len(closes) == 5 and opens < closes):
            raise ValueError(f"hours {opens}-{closes} of {data['name']}")
        hours.append({"days": days, "opens": opens, "closes": closes})
    return Organization(str(data["name"]), str(data.get("timezone") or "UTC"), tuple(hours))
