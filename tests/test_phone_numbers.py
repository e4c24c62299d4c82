"""Phone numbers are redacted; dates with a time, number ranges and ISBNs are not.

A travel answer's "2024-05-21 18:00" came out as "[PHONE]:00" and a price range
"500-1000 EUR" as "[PHONE]": the user lost what they asked for.
"""

from __future__ import annotations

import pytest

from podium.redaction import redact


@pytest.mark.parametrize(
    "text",
    [
        "the flight leaves 2024-05-21 18:00 from gate 4",
        "check-in: 21/05/2024 09:30",
        "hotels in the 500-1000 EUR range",
        "rooms cost $120-180 a night",
        "between 500-1000 guests",
        "open 1999-2001, then closed",
        "ISBN 978-3-16-148410-0",
        "10:30-11:45",
    ],
)
def test_not_a_phone_number(text: str) -> None:
    assert redact(text) == (text, [])


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("call me at +1 415-555-0132", "call me at [PHONE]"),
        ("(415) 555-0132", "[PHONE]"),
        ("tel: 030 1234567", "tel: [PHONE]"),
        ("+44 20 7946 0958", "[PHONE]"),
        ("ring 555-0132 after six", "ring [PHONE] after six"),
        ("ring 555-1234 after six", "ring [PHONE] after six"),
        ("on 2024-05-21 call 415-555-0132", "on 2024-05-21 call [PHONE]"),
        ("a text from 555-1234 came in", "a text from [PHONE] came in"),  # not a range
        ("ring 555-1234 and ask for Ann", "ring [PHONE] and ask for Ann"),  # "and" is no ISO code
        ("ring 555-1234 now", "ring [PHONE] now"),
        ("2024-05-21 415 555 0132 called", "2024-05-21 [PHONE] called"),  # a date, then a phone
    ],
)
def test_phone_numbers_are_still_redacted(text: str, shown: str) -> None:
    assert redact(text) == (shown, ["phone"])
