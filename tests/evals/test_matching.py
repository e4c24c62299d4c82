"""BFCL's AST-matching rules, as podium.evals.matching applies them."""

from __future__ import annotations

from podium.evals.matching import ExpectedCall, call_problem, calls_problem, same_value


def test_values_compare_with_bfcl_coercions() -> None:
    assert same_value(5, 5.0) and same_value(5.0, 5)  # an int where a float is allowed
    assert same_value("New York, NY", "new york ny")  # case, spaces, punctuation
    assert same_value([1, 2], [1.0, 2.0]) and not same_value([1, 2], [2, 1])
    assert same_value({"a": 1}, {"a": [1], "b": [""]})  # nested dicts, optional keys
    assert not same_value(True, 1) and not same_value("5", 5)


def test_a_call_matches_by_name_allowed_values_and_optional_parameters() -> None:
    expected = ExpectedCall(name="area", arguments={"base": [10], "unit": ["units", ""]})
    assert call_problem("area", {"base": 10}, expected) is None
    assert call_problem("area", {"base": 10, "unit": "Units"}, expected) is None
    assert call_problem("area", {"base": 11}, expected) == "area: base=11 is not one of [10]"
    assert call_problem("area", {}, expected) == "area: missing argument 'base'"
    assert call_problem("area", {"base": 10, "x": 1}, expected) == "area: unexpected argument 'x'"
    assert call_problem("volume", {"base": 10}, expected) == "called volume, expected area"


def test_parallel_calls_match_in_any_order_one_to_one() -> None:
    expected = [
        ExpectedCall(name="weather", arguments={"city": ["Paris"]}),
        ExpectedCall(name="weather", arguments={"city": ["Rome"]}),
    ]
    made = [("weather", {"city": "Rome"}), ("weather", {"city": "Paris"})]
    assert calls_problem(made, expected) is None
    assert calls_problem(made, expected, ordered=True) is not None
    twice = [("weather", {"city": "Rome"}), ("weather", {"city": "Rome"})]
    assert calls_problem(twice, expected) is not None
    assert calls_problem(made[:1], expected) == "made 1 call(s), expected 2"


def test_a_single_value_in_a_suite_means_a_list_of_one() -> None:
    assert ExpectedCall(name="f", arguments={"x": 3}).arguments == {"x": [3]}


def test_long_parallel_lists_are_matched_greedily() -> None:
    expected = [ExpectedCall(name="f", arguments={"i": [i]}) for i in range(10)]
    made = [("f", {"i": i}) for i in reversed(range(10))]
    assert calls_problem(made, expected) is None
    made[3] = ("f", {"i": 42})
    assert calls_problem(made, expected) == "f({'i': 42}) matches no expected call"
