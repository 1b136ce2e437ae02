import math
import random

import pytest

from services_directory.geo import haversine_km
from services_directory.places import NEAREST_CITY_MAX_KM, gazetteer


@pytest.mark.parametrize(
    ("typed", "city", "country"),
    [("Madrid", "Madrid", "ES"), ("cdmx", "Mexico City", "MX"),
     ("ciudad de mexico", "Mexico City", "MX"), ("LONDON", "London", "GB"),
     ("los angeles", "Los Angeles", "US"), ("Manila", "Manila", "PH")],
)
def test_typed_city_names_resolve_offline(typed, city, country):
    place = gazetteer().lookup(typed)
    assert (place.name, place.country) == (city, country)


@pytest.mark.parametrize(
    ("typed", "city", "country"),
    [("Porto", "Porto", "PT"),  # not Bordeaux, whose Occitan name is Porto
     ("Canton", "Guangzhou", "CN"),  # an old name of a big city beats a small town's own
     ("Празі", "Prague", "CZ"),  # у Празі, not Praia (Прая)
     ("Києві", "Kyiv", "UA"), ("Львові", "Lviv", "UA"), ("Харкові", "Kharkiv", "UA"),
     ("Дніпрі", "Dnipro", "UA"), ("Одесі", "Odesa", "UA"), ("Москве", "Moscow", "RU"),
     ("Варшаві", "Warsaw", "PL")],
)
def test_own_names_and_inflected_names_find_the_city_meant(typed, city, country):
    place = gazetteer().lookup(typed)
    assert place is not None and (place.name, place.country) == (city, country)


def test_unknown_places_are_not_guessed():
    assert gazetteer().lookup("Springfieldxx") is None


def test_a_shared_location_is_labelled_with_its_city():
    assert gazetteer().nearest(41.88, -87.63).name == "Chicago"
    assert gazetteer().nearest(0.0, -150.0) is None  # the middle of the Pacific


def test_the_nearest_city_is_the_best_of_every_city_within_reach():
    """nearest() reads only the few places that can win; the answer is the one a look at
    every city gives (distance less a bonus for size, the first in latitude order on ties)."""
    places = gazetteer()._all
    rng = random.Random(7)
    for _ in range(300):
        city = rng.choice(places)
        lat = max(-90.0, min(90.0, city.latitude + rng.gauss(0, 0.3)))
        lon = city.longitude + rng.gauss(0, 0.3)
        cos_lat = max(math.cos(math.radians(lat)), 0.01)
        scored = [(haversine_km(lat, lon, p.latitude, p.longitude), p) for p in places
                  if abs(p.latitude - lat) <= NEAREST_CITY_MAX_KM / 111.0
                  and abs(p.longitude - lon) * 111.0 * cos_lat <= NEAREST_CITY_MAX_KM]
        within = [(km - 2.0 * math.log10(max(p.population, 1)), rank, p)
                  for rank, (km, p) in enumerate(scored) if km <= NEAREST_CITY_MAX_KM]
        assert gazetteer().nearest(lat, lon) is (min(within)[2] if within else None)
