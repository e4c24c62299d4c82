"""Principal ids: what may name a namespace, checked whole."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from podium.errors import ConfigError
from podium.identity import Principal, check_principal_id


@pytest.mark.parametrize("name", ["bob\n", "team:lead", "a/b", "", "x" * 129, "bob\nroot"])
def test_an_id_that_is_not_wholly_letters_digits_and_marks_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="should match pattern"):
        Principal(id=name)
    with pytest.raises(ConfigError, match="may hold only"):
        check_principal_id(name, "tokens, line 1")


@pytest.mark.parametrize("name", ["bob", "josé", "ops-bot+ci@example.com", "x" * 128])
def test_letters_of_any_language_digits_and_address_marks_are_ids(name: str) -> None:
    assert Principal(id=name).tenant == name
    check_principal_id(name, "tokens, line 1")
