"""Canonical JSON: Go ``encoding/json`` number and string forms, sorted keys, round-trip."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.jobs.canonical_json import encode_canonical, format_go_float, quote_go_string


@pytest.mark.parametrize(
    ("value", "want"),
    [
        pytest.param(3.0, "3", id="integral-float-without-fraction"),
        pytest.param(0.0, "0", id="zero"),
        pytest.param(-0.0, "-0", id="negative-zero"),
        pytest.param(0.1, "0.1", id="shortest-round-trip"),
        pytest.param(2.5, "2.5", id="fraction"),
        pytest.param(-1.25, "-1.25", id="negative-fraction"),
        pytest.param(1 / 3, "0.3333333333333333", id="seventeen-digits-max"),
        pytest.param(123456789.125, "123456789.125", id="no-exponent-mid-range"),
        pytest.param(1e16, "10000000000000000", id="fixed-where-python-repr-uses-e"),
        pytest.param(1e20, "100000000000000000000", id="just-below-1e21-fixed"),
        pytest.param(12345678901234567890.0, "12345678901234567000", id="fixed-padded-zeros"),
        pytest.param(1e21, "1e+21", id="1e21-exponent"),
        pytest.param(-1e21, "-1e+21", id="negative-1e21"),
        pytest.param(1.5e300, "1.5e+300", id="huge-three-digit-exponent"),
        pytest.param(1.7976931348623157e308, "1.7976931348623157e+308", id="max-double"),
        pytest.param(1e-6, "0.000001", id="1e-6-fixed"),
        pytest.param(1e-5, "0.00001", id="1e-5-fixed-where-python-repr-uses-e"),
        pytest.param(1e-7, "1e-7", id="1e-7-exponent-without-leading-zero"),
        pytest.param(1.5e-7, "1.5e-7", id="fractional-mantissa-small-exponent"),
        pytest.param(-1.5e-7, "-1.5e-7", id="negative-small"),
        pytest.param(1e-100, "1e-100", id="three-digit-negative-exponent"),
        pytest.param(5e-324, "5e-324", id="smallest-subnormal"),
    ],
)
def test_go_float_format(value: float, want: str) -> None:
    assert (format_go_float(value), encode_canonical(value)) == (want, want)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="infinity"),
        pytest.param(-math.inf, id="negative-infinity"),
        pytest.param({"a": [math.nan]}, id="nested-nan"),
    ],
)
def test_non_finite_numbers_rejected(value: Any) -> None:
    with pytest.raises(ValueError, match="NaN and infinity"):
        encode_canonical(value)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("plain", '"plain"', id="plain"),
        pytest.param("", '""', id="empty"),
        pytest.param("<b>&</b>", '"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"', id="html-escapes"),
        pytest.param("a\u2028b\u2029c", '"a\\u2028b\\u2029c"', id="line-and-paragraph-separator"),
        pytest.param('say "hi"', '"say \\"hi\\""', id="quote"),
        pytest.param("C:\\tmp", '"C:\\\\tmp"', id="backslash"),
        pytest.param("a\nb\rc\td", '"a\\nb\\rc\\td"', id="short-escapes"),
        pytest.param("\b\f", '"\\b\\f"', id="backspace-formfeed-short-escapes"),
        pytest.param("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"', id="other-control-chars"),
        pytest.param("\x7f", '"\x7f"', id="del-not-escaped"),
        pytest.param("héllo ✓ 😀", '"héllo ✓ 😀"', id="non-ascii-kept-as-utf8"),
        pytest.param("/path", '"/path"', id="slash-not-escaped"),
        pytest.param("\ud800", '"\\ufffd"', id="lone-surrogate-replaced"),
    ],
)
def test_go_string_escaping(text: str, want: str) -> None:
    assert (quote_go_string(text), encode_canonical(text)) == (want, want)


@pytest.mark.parametrize(
    ("value", "sort_keys", "want"),
    [
        pytest.param(None, True, "null", id="null"),
        pytest.param(True, True, "true", id="true"),
        pytest.param(False, True, "false", id="false"),
        pytest.param(0, True, "0", id="int-zero"),
        pytest.param(-42, True, "-42", id="negative-int"),
        pytest.param(10**21, True, "1000000000000000000000", id="big-int-stays-integer"),
        pytest.param([], True, "[]", id="empty-array"),
        pytest.param({}, True, "{}", id="empty-object"),
        pytest.param((1, "a", None), True, '[1,"a",null]', id="tuple-as-array"),
        pytest.param({"b": 1, "a": 2}, True, '{"a":2,"b":1}', id="keys-sorted"),
        pytest.param(
            {"z": {"y": 1, "x": [{"d": 1, "c": 2}]}, "a": 3.0},
            True,
            '{"a":3,"z":{"x":[{"c":2,"d":1}],"y":1}}',
            id="keys-sorted-at-every-depth",
        ),
        pytest.param({"b": 1, "B": 2, "a": 3}, True, '{"B":2,"a":3,"b":1}', id="byte-order-sort"),
        pytest.param(
            {"type": "t", "hash": "h", "options": {"b": 1, "a": 2}},
            False,
            '{"type":"t","hash":"h","options":{"a":2,"b":1}}',
            id="top-order-kept-nested-sorted",
        ),
        pytest.param({"<": "&"}, True, '{"\\u003c":"\\u0026"}', id="keys-escaped-too"),
        pytest.param({"a": [1, 2.0, 2.5]}, True, '{"a":[1,2,2.5]}', id="no-whitespace"),
    ],
)
def test_encode_canonical(value: Any, sort_keys: bool, want: str) -> None:
    assert encode_canonical(value, sort_keys=sort_keys) == want


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({1: "a"}, id="non-string-key"),
        pytest.param({"a": object()}, id="unknown-type"),
        pytest.param({"a": {1, 2}}, id="set"),
    ],
)
def test_unencodable_values_rejected(value: Any) -> None:
    with pytest.raises(TypeError):
        encode_canonical(value)


# --- round trip (hypothesis) --------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=25,
)


def _same_json(got: Any, want: Any) -> bool:
    """Equality as a JSON (float64) reader sees it: ``3.0`` may come back as ``3``, and a
    huge float written in fixed notation as an integer with the same float64 value."""
    if isinstance(want, float):
        return not isinstance(got, bool) and isinstance(got, int | float) and float(got) == want
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(_same_json(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(_same_json(got[key], want[key]) for key in want)
        )
    return type(got) is type(want) and bool(got == want)


@given(value=JSON_VALUES)  # st.text() never draws lone surrogates
def test_round_trips_through_json_loads(value: Any) -> None:
    encoded = encode_canonical(value)

    assert _same_json(json.loads(encoded), value)
    assert not any(char in encoded for char in "<>&\u2028\u2029")  # always escaped
