"""Rasa's events found by name once, not once per event read.

Every stored conversation is read back event by event, and Rasa finds each event's class by
its name by walking all subclasses of Event, checking each for abstractness
(`Event.resolve_by_type`): ~1.4 ms a message in the load benchmark, and more the longer the
conversation. The classes do not change once imported, so a class found is remembered.
"""

from __future__ import annotations

from rasa.shared.core.events import Event

_walk = Event.resolve_by_type
_found: dict[str, type[Event]] = {}


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Event.resolve_by_type, remembering what it found (never a default or a miss)."""
    found = _found.get(type_name)
    if found is None:
        found = _walk(type_name, default)
        if found is not None and found is not default:
            _found[type_name] = found
    return found


Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
