from __future__ import annotations

import contextlib
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.security.percent_decoding import PercentDecodingError, decode_once


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        pytest.param("", "", id="empty"),
        pytest.param("uploads/a.png", "uploads/a.png", id="plain-passes-through"),
        pytest.param("My%20Image.png", "My Image.png", id="space"),
        pytest.param("uploads%2Fa%2fb.png", "uploads/a/b.png", id="slash-either-case"),
        pytest.param("a+b", "a+b", id="plus-is-not-space"),
        pytest.param("100%25.png", "100%.png", id="percent-decoded-once"),
        pytest.param("a%2541.png", "a%41.png", id="not-decoded-twice"),
        pytest.param("%C3%A9", "é", id="utf8-sequence"),
        pytest.param("é%20x", "é x", id="literal-non-ascii-kept"),
        pytest.param("%e4%b8%ad", "中", id="lower-case-hex"),
        pytest.param("%F0%9F%98%80", "😀", id="four-byte-sequence"),
    ],
)
def test_decode_once(raw: str, want: str) -> None:
    assert decode_once(raw) == want


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("%zz", 'invalid URL escape "%zz"', id="non-hex-escape"),
        pytest.param("a%4", 'invalid URL escape "%4"', id="truncated-escape"),
        pytest.param("a%", 'invalid URL escape "%"', id="bare-percent"),
        pytest.param("%4g.png", 'invalid URL escape "%4g"', id="half-hex"),
        pytest.param("%+1", 'invalid URL escape "%+1"', id="sign-is-not-hex"),
        pytest.param("%ff", "invalid UTF-8 in decoded text", id="lone-high-byte"),
        pytest.param("%C3", "invalid UTF-8 in decoded text", id="truncated-sequence"),
        pytest.param("%ED%A0%80", "invalid UTF-8 in decoded text", id="encoded-surrogate"),
        pytest.param("%C0%AF", "invalid UTF-8 in decoded text", id="overlong-slash"),
        pytest.param("a%00b", "NUL byte in decoded text", id="encoded-nul"),
        pytest.param("a\x00b", "NUL byte in decoded text", id="literal-nul"),
        pytest.param("\udcff", "invalid UTF-8 in encoded text", id="lone-surrogate-input"),
    ],
)
def test_decode_once_rejects(raw: str, message: str) -> None:
    with pytest.raises(PercentDecodingError) as caught:
        decode_once(raw)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


_no_nul = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))


@given(_no_nul)
def test_decodes_what_quote_encodes(text: str) -> None:
    assert decode_once(quote(text, safe="")) == text


@given(st.text())
def test_raises_only_percent_decoding_error(raw: str) -> None:
    with contextlib.suppress(PercentDecodingError):
        decode_once(raw)
