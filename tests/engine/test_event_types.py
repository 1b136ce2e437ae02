"""Rasa finds an event's class by its name once (bot/engine/event_types.py): the same answers
as its own walk over every Event subclass, for stored conversations read back."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    SlotSet,
    UserUttered,
    deserialise_events,
)

import bot.engine.event_types as event_types


def test_stored_events_come_back_as_the_same_classes_as_rasas_own_lookup():
    stored = [{"event": "action", "name": "action_listen"},
              {"event": "user", "text": "hola", "parse_data": {"intent": {"name": "greet"}}},
              {"event": "slot", "name": "need", "value": "shelter"},
              {"event": "user", "text": "otra vez", "parse_data": {"intent": {"name": "greet"}}}]
    for _ in range(2):  # walked the first time, remembered the second
        events = deserialise_events(stored)
        assert [type(e) for e in events] == [ActionExecuted, UserUttered, SlotSet, UserUttered]
    for name in ("action", "user", "slot", "pause", "resume", "session_started"):
        assert Event.resolve_by_type(name) is event_types._walk(name)


def test_an_unknown_name_still_gets_rasas_answers():
    assert Event.resolve_by_type("topic") is None  # Rasa's old TopicSet events
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    assert "no_such_event" not in event_types._found
