import pytest

from services_directory.places import gazetteer


@pytest.mark.parametrize(
    ("typed", "city", "country"),
    [("Madrid", "Madrid", "ES"), ("cdmx", "Mexico City", "MX"),
     ("ciudad de mexico", "Mexico City", "MX"), ("LONDON", "London", "GB"),
     ("los angeles", "Los Angeles", "US"), ("Manila", "Manila", "PH")],
)
def test_typed_city_names_resolve_offline(typed, city, country):
    place = gazetteer().lookup(typed)
    assert (place.name, place.country) == (city, country)


def test_unknown_places_are_not_guessed():
    assert gazetteer().lookup("Springfieldxx") is None


def test_a_shared_location_is_labelled_with_its_city():
    assert gazetteer().nearest(41.88, -87.63).name == "Chicago"
    assert gazetteer().nearest(0.0, -150.0) is None  # the middle of the Pacific
