"""Time zones by the names people use: IANA names in any case, and cities.

"Tokyo" is Asia/Tokyo and "new york" America/New_York (the city part of an IANA name); a
few large cities that name no zone of their own are in a small table. Anything else is not
guessed: the caller says it does not know the place.
"""

from __future__ import annotations

import functools
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, available_timezones

# Cities that are not the city part of an IANA name, with the zone they keep.
CITIES = {
    "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles", "san diego": "America/Los_Angeles",
    "boston": "America/New_York", "washington": "America/New_York",
    "washington dc": "America/New_York", "miami": "America/New_York",
    "atlanta": "America/New_York", "philadelphia": "America/New_York",
    "houston": "America/Chicago", "dallas": "America/Chicago", "austin": "America/Chicago",
    "montreal": "America/Toronto", "rio de janeiro": "America/Sao_Paulo",
    "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "chennai": "Asia/Kolkata",
    "beijing": "Asia/Shanghai", "shenzhen": "Asia/Shanghai", "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo", "hanoi": "Asia/Bangkok", "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin", "hamburg": "Europe/Berlin", "milan": "Europe/Rome",
    "barcelona": "Europe/Madrid", "geneva": "Europe/Zurich", "edinburgh": "Europe/London",
    "manchester": "Europe/London", "st petersburg": "Europe/Moscow", "cape town":
    "Africa/Johannesburg", "abu dhabi": "Asia/Dubai", "canberra": "Australia/Sydney",
    "wellington": "Pacific/Auckland",
}  # fmt: skip
_UTC_NAMES = frozenset({"utc", "gmt", "z", "zulu", "universal"})


@functools.cache
def _by_folded_name() -> dict[str, str]:
    """Every IANA name by its folded forms: the whole name, and its city part."""
    names: dict[str, str] = {}
    for name in sorted(available_timezones()):
        names.setdefault(_fold(name), name)
    for name in sorted(available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/")):
            names.setdefault(_fold(name.rsplit("/", 1)[1]), name)
    return names


def _fold(text: str) -> str:
    return " ".join(text.replace("_", " ").replace(".", "").lower().split())


def zone_named(text: str) -> tzinfo | None:
    """The time zone ``text`` names (an IANA name, or a city), or None when none fits."""
    folded = _fold(text)
    if folded in _UTC_NAMES:
        return UTC
    name = _by_folded_name().get(folded) or CITIES.get(folded)
    return ZoneInfo(name) if name else None
