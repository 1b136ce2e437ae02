"""Expected answers computed straight from the sample file, independently of the search code."""

import json
import math

from bot.render import render
from tests.conftest import SAMPLE_DIRECTORY
from tests.telegram_rules import parse_html

MADRID = (40.4168, -3.7038)
CHICAGO = (41.8781, -87.6298)
LONDON = (51.5072, -0.1276)
LOS_ANGELES = (34.0522, -118.2437)
MANILA = (14.5995, 120.9842)


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 12742 * math.asin(math.sqrt(a))


def nearest_service_name(need: str, lat: float, lon: float) -> str:
    best = None
    for service in json.loads(SAMPLE_DIRECTORY.read_text()):
        codes = {a["taxonomy_term"]["code"] for a in service.get("attributes", [])}
        if need not in codes:
            continue
        for link in service.get("service_at_locations", []):
            loc = link["location"]
            km = _km(lat, lon, loc["latitude"], loc["longitude"])
            if best is None or km < best[0]:
                best = (km, service["name"])
    assert best is not None, f"the sample has no {need} service"
    return best[1]


def shown(key: str, language: str, **values: object) -> str:
    """A message as the person reads it in that language (HTML removed)."""
    return parse_html(render({"message": key, **values}, language).text)[0]
