"""Actions that find help: remember the need, work out where, search the directory."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.runtime import directory_engine
from bot.safety import emergency_message
from services_directory import Near, search
from services_directory.geo import coarse_point
from services_directory.places import gazetteer
from services_directory.search import known_need


def _latest_entity(tracker: Tracker, name: str) -> str | None:
    return next(tracker.get_latest_entity_values(name), None)


def _area_from_shared_location(value: str) -> dict[str, Any] | None:
    try:
        lat_text, lon_text = value.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    nearest = gazetteer().nearest(lat, lon)
    return {  # searched from exactly here; kept (in the slot) only as a ~5 km² cell's centre
        "latitude": lat,
        "longitude": lon,
        "label": nearest.name if nearest else None,
        "country": nearest.country if nearest else None,
    }


def _area_from_place(name: str) -> dict[str, Any] | None:
    place = gazetteer().lookup(name)
    if place is None:
        return None
    return {"latitude": place.latitude, "longitude": place.longitude,
            "label": place.name, "country": place.country}


def kept(area: dict[str, Any]) -> dict[str, Any]:
    """What the conversation may remember of an area: its cell's centre, never the point."""
    latitude, longitude = coarse_point(area["latitude"], area["longitude"])
    return {**area, "latitude": latitude, "longitude": longitude}


def current_area(tracker: Tracker) -> dict[str, Any] | None:
    """Where to search: a location shared or a place named in this message, else the last one."""
    shared = _latest_entity(tracker, "location")
    if shared and (area := _area_from_shared_location(shared)):
        return area
    named = _latest_entity(tracker, "place")
    if named and (area := _area_from_place(named)):
        return area
    return tracker.get_slot("location")


class ActionSetNeed(Action):
    def name(self) -> str:
        return "action_set_need"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = tracker.get_intent_of_latest_message() or ""
        need = intent.removeprefix("need_")
        return [SlotSet("need", need if known_need(need) else None)]


class ActionSearchServices(Action):
    def name(self) -> str:
        return "action_search_services"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        need = tracker.get_slot("need")
        area = current_area(tracker)
        events: list[EventType] = [] if area is None else [SlotSet("location", kept(area))]
        if not known_need(need):
            dispatcher.utter_message(json_message={"message": "ask_need",
                                                   "place": area and area["label"]})
            return events
        if area is None:
            dispatcher.utter_message(json_message={"message": "ask_location", "need": need})
            return events
        near = Near(area["latitude"], area["longitude"])
        matches = await asyncio.to_thread(search, directory_engine(), need, near)
        dispatcher.utter_message(json_message={
            "message": "results" if matches else "no_results",
            "need": need,
            "place": area["label"],
            "services": [asdict(match) for match in matches],
        })
        return events


class ActionEmergency(Action):
    """Numbers first, nothing asked before them."""

    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        area = current_area(tracker)
        dispatcher.utter_message(json_message=emergency_message(area and area["country"]))
        return [] if area is None else [SlotSet("location", kept(area))]


def _last_message_key(tracker: Tracker) -> str | None:
    last_bot = next((e for e in reversed(tracker.events) if e.get("event") == "bot"), None)
    return (((last_bot or {}).get("data") or {}).get("custom") or {}).get("message")


MISSED = ("not_understood", "out_of_scope")
OFFER_A_PERSON = {"message": "talk_to_human", "reason": "not_understood"}


class ActionDefaultFallback(Action):
    """Not understood: if we had just asked where, say we do not know that place; the second
    miss in a row offers a person instead."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        last_key = _last_message_key(tracker)
        if last_key in ("ask_location", "unknown_place"):
            dispatcher.utter_message(json_message={"message": "unknown_place",
                                                   "need": tracker.get_slot("need")})
        elif last_key in MISSED:
            dispatcher.utter_message(json_message=OFFER_A_PERSON)
        else:
            dispatcher.utter_message(json_message={"message": "not_understood"})
        return []


class ActionOutOfScope(Action):
    """Something Passage does not help with; the second miss in a row offers a person."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        missed_before = _last_message_key(tracker) in MISSED
        dispatcher.utter_message(json_message=OFFER_A_PERSON if missed_before
                                 else {"message": "out_of_scope"})
        return []
