import pytest

from podium.errors import InvalidRequest
from podium.patterns.templates import fill


def test_payload_fields_fill_by_plain_name_only() -> None:
    assert fill("order {id}", {"id": "{x}"}, "e") == "order {x}"  # no second pass
    assert fill("{a.__class__}", {"a": 1}, "e") == "{a.__class__}"  # no attribute access
    with pytest.raises(InvalidRequest, match="needs field 'id'"):
        fill("order {id}", {"order": 1}, "event 'order.paid'")
    with pytest.raises(InvalidRequest, match="characters long"):
        fill("{t}", {"t": "x" * 5000}, "e")
