"""A service's needs, from its HSDS attributes (the "passage" taxonomy or a mapped one)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

NEEDS: tuple[str, ...] = (
    "shelter", "legal", "immigration", "medical", "counseling", "basic_needs", "work",
    "return_home", "hotline",
)
PASSAGE_TAXONOMY = "passage"
MAPPING_FILE = Path(__file__).with_name("need_mapping.yml")


@cache
def mapping() -> dict[str, dict[str, str]]:
    raw = yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8")) or {}
    return {taxonomy.lower(): {term.lower(): need for term, need in terms.items()}
            for taxonomy, terms in raw.items()}


def _term(attribute: dict[str, Any]) -> dict[str, Any]:
    return attribute.get("taxonomy_term") or {}


def _taxonomy(term: dict[str, Any]) -> str:
    detail = term.get("taxonomy_detail") or {}
    return str(term.get("taxonomy") or detail.get("name") or PASSAGE_TAXONOMY).lower()


def attribute_codes(entity: dict[str, Any]) -> list[str]:
    """Codes of the "passage" taxonomy terms attached to an HSDS object."""
    return [str(_term(a).get("code") or a.get("value") or "").lower()
            for a in entity.get("attributes") or []
            if _taxonomy(_term(a)) == PASSAGE_TAXONOMY]


def needs_of(service: dict[str, Any]) -> list[str]:
    needs = {code for code in attribute_codes(service) if code in NEEDS}
    for attribute in service.get("attributes") or []:
        term = _term(attribute)
        terms = mapping().get(_taxonomy(term), {})
        for key in (term.get("code"), term.get("name")):
            if key and str(key).lower() in terms:
                needs.add(terms[str(key).lower()])
    return sorted(needs)


def known_need(need: str | None) -> bool:
    return need in NEEDS
