"""The directory of victim-service providers. `search()` is its one door."""

from services_directory.search import Near, SearchFilters, ServiceMatch, search

__all__ = ["Near", "SearchFilters", "ServiceMatch", "search"]
