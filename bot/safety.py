"""Emergency numbers by country (ISO 3166-1 alpha-2), shown before anything else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmergencyContacts:
    numbers: tuple[str, ...]  # police / general emergency first
    hotline_name: str | None = None
    hotline_number: str | None = None


# 112 reaches emergency services from mobile phones in the EU and many other countries.
FALLBACK = EmergencyContacts(("112",))

EMERGENCY_CONTACTS: dict[str, EmergencyContacts] = {
    "US": EmergencyContacts(("911",), "National Human Trafficking Hotline", "1-888-373-7888"),
    "CA": EmergencyContacts(("911",), "Canadian Human Trafficking Hotline", "1-833-900-1010"),
    "MX": EmergencyContacts(("911",), "Línea Nacional contra la Trata de Personas",
                            "800 5533 000"),
    "GB": EmergencyContacts(("999", "112"), "Modern Slavery & Exploitation Helpline",
                            "08000 121 700"),
    "IE": EmergencyContacts(("112", "999")),
    "ES": EmergencyContacts(("112",), "Policía Nacional – línea contra la trata",
                            "900 10 50 90"),
    "FR": EmergencyContacts(("112", "17")),
    "DE": EmergencyContacts(("112", "110"), "Hilfetelefon Gewalt gegen Frauen", "116 016"),
    "IT": EmergencyContacts(("112",), "Numero Verde Anti-tratta", "800 290 290"),
    "PT": EmergencyContacts(("112",)),
    "NL": EmergencyContacts(("112",)),
    "BE": EmergencyContacts(("112",)),
    "AT": EmergencyContacts(("112", "133")),
    "CH": EmergencyContacts(("112", "117")),
    "PL": EmergencyContacts(("112",)),
    "RO": EmergencyContacts(("112",)),
    "MD": EmergencyContacts(("112",)),
    "GR": EmergencyContacts(("112",)),
    "UA": EmergencyContacts(("112", "102")),
    "RU": EmergencyContacts(("112",)),
    "PH": EmergencyContacts(("911",), "1343 Actionline Against Human Trafficking", "1343"),
    "TH": EmergencyContacts(("191", "1669"), "Social Assistance Center", "1300"),
    "VN": EmergencyContacts(("113", "115")),
    "CN": EmergencyContacts(("110", "120")),
    "BR": EmergencyContacts(("190", "192"), "Disque Direitos Humanos", "100"),
    "AR": EmergencyContacts(("911",)),
    "CO": EmergencyContacts(("123",)),
    "SV": EmergencyContacts(("911",)),
    "HN": EmergencyContacts(("911",)),
    "DO": EmergencyContacts(("911",)),
    "AU": EmergencyContacts(("000",)),
    "NZ": EmergencyContacts(("111",)),
    "IN": EmergencyContacts(("112",)),
    "SA": EmergencyContacts(("911",)),
    "AE": EmergencyContacts(("999",)),
    "QA": EmergencyContacts(("999",)),
    "JO": EmergencyContacts(("911",)),
    "LB": EmergencyContacts(("112",)),
    "EG": EmergencyContacts(("122", "123")),
    "MA": EmergencyContacts(("19", "15")),
}


def emergency_contacts(country: str | None) -> EmergencyContacts:
    return EMERGENCY_CONTACTS.get((country or "").upper(), FALLBACK)


def emergency_message(country: str | None) -> dict[str, object]:
    """What the bot shows first when someone is in danger (rendered by bot.render)."""
    contacts = emergency_contacts(country)
    return {"message": "emergency", "country": country if country in EMERGENCY_CONTACTS else None,
            "numbers": list(contacts.numbers), "hotline_name": contacts.hotline_name,
            "hotline_number": contacts.hotline_number}
