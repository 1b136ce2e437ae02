"""Distances on Earth and the coarse bands people are shown instead of exact distances."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
# Upper bounds in km. A band, not a number: exact distances to several points reveal a place.
DISTANCE_BANDS_KM: tuple[float, ...] = (1, 2, 5, 10, 25, 50, 100)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def distance_band(km: float) -> tuple[float, float] | None:
    """(low, high) km of the band containing km; None beyond the last band."""
    low = 0.0
    for high in DISTANCE_BANDS_KM:
        if km < high:
            return (low, high)
        low = high
    return None


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    """HSDS examples use placeholder coordinates (100, 101): such places are not findable."""
    return lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180


KEPT_RESOLUTION = 7  # H3 cells of ~5 km²: where someone is, roughly, never exactly


def coarse_point(lat: float, lon: float) -> tuple[float, float]:
    """The centre of the ~5 km² cell around a point: what may be kept of a shared location."""
    import h3

    centre_lat, centre_lon = h3.cell_to_latlng(h3.latlng_to_cell(lat, lon, KEPT_RESOLUTION))
    return round(centre_lat, 4), round(centre_lon, 4)
