"""The time zones offered as buttons, by language, and reading a typed one."""

from __future__ import annotations

from bot.engine.core.local_time import zone_of
from bot.engine.ports.directory import Rejected

# Likely zones for the people using each language; anyone else types theirs (Europe/Paris).
LIKELY_ZONES: dict[str, tuple[str, ...]] = {
    "en": ("Europe/London", "Africa/Lagos", "Africa/Nairobi", "America/New_York", "UTC"),
    "fr": ("Europe/Paris", "Africa/Dakar", "Africa/Kinshasa", "America/Montreal", "UTC"),
    "es": ("Europe/Madrid", "America/Mexico_City", "America/Bogota", "America/Lima", "UTC"),
}


def likely_zones(locale: str) -> tuple[str, ...]:
    """The zones to offer as buttons in `locale`."""
    return LIKELY_ZONES.get(locale, LIKELY_ZONES["en"])


def typed_zone(text: str) -> str | None:
    """An IANA zone name typed by the user ('Europe/Paris', 'utc'), or None if it is not one."""
    try:
        return zone_of(text.strip()).key
    except Rejected:
        return None
