"""The media hash: its charset, the two-character storage prefix (worker §6.1) and the
media hash an /img source key belongs to (http-api §5.1.8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.errors import InvalidHash
from vylux_core.media.media_hash import hash_prefix, media_hash_of_source_key, validate_media_hash


@pytest.mark.parametrize(
    ("media_hash", "want"),
    [
        pytest.param("abcdef1234567890", "ab", id="first-two-chars"),
        pytest.param("ab", "ab", id="exactly-two"),
        pytest.param("a", "a", id="shorter-is-whole-hash"),
        pytest.param("Z9-x", "Z9", id="case-kept"),
        pytest.param("-_", "-_", id="punctuation-chars"),
    ],
)
def test_hash_prefix(media_hash: str, want: str) -> None:
    assert hash_prefix(media_hash) == want


@pytest.mark.parametrize(
    "media_hash",
    [
        pytest.param(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", id="sha256"
        ),
        pytest.param("25b0dd17-9ef4-4512-baa4-5d80d2a55b41", id="uuid"),
        pytest.param("movie_2026-04-01", id="slug"),
        pytest.param("x", id="one-char"),
        pytest.param("A" * 128, id="128-chars"),
    ],
)
def test_validate_accepts(media_hash: str) -> None:
    assert validate_media_hash(media_hash) == media_hash


@pytest.mark.parametrize(
    ("media_hash", "message"),
    [
        pytest.param("", "hash is required", id="empty"),
        pytest.param("a" * 129, "hash must be 1-128 characters", id="129-chars"),
        pytest.param("a/b", "hash must be 1-128 characters", id="slash"),
        pytest.param("..", "hash must be 1-128 characters", id="dotdot"),
        pytest.param("a.b", "hash must be 1-128 characters", id="dot"),
        pytest.param("a\\b", "hash must be 1-128 characters", id="backslash"),
        pytest.param("a\x00", "hash must be 1-128 characters", id="nul"),
        pytest.param("ab\n", "hash must be 1-128 characters", id="trailing-newline"),
        pytest.param(" ab", "hash must be 1-128 characters", id="leading-space"),
        pytest.param("ａｂ", "hash must be 1-128 characters", id="full-width-letters"),
        pytest.param("١٢", "hash must be 1-128 characters", id="non-ascii-digits"),
    ],
)
def test_validate_rejects(media_hash: str, message: str) -> None:
    with pytest.raises(InvalidHash) as caught:
        validate_media_hash(media_hash)

    assert caught.value.message.startswith(message)


@given(media_hash=st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True))
def test_valid_hash_prefix_is_a_short_ascii_head(media_hash: str) -> None:
    prefix = hash_prefix(media_hash)

    assert validate_media_hash(media_hash) == media_hash
    assert media_hash.startswith(prefix)
    assert len(prefix) == min(2, len(media_hash))
    assert len(prefix.encode()) == len(prefix)  # characters are bytes, as in the reference


A = "a" * 64
B = "b" * 64
MIXED = "0123456789ABCDEFabcdef" * 2 + "0123456789ABCDEFabcd"  # 64 characters


@pytest.mark.parametrize(
    ("source_key", "want"),
    [
        pytest.param(A, A, id="whole-key"),
        pytest.param(f"uploads/aa/{A}", A, id="last-segment"),
        pytest.param(f"{A}/photo.png", A, id="first-segment"),
        pytest.param(f"u/{A}/{B}", A, id="first-match-wins"),
        pytest.param(f"u/x{A}/{B}", B, id="longer-segment-skipped"),
        pytest.param(f"u/{MIXED}/p.png", MIXED.lower(), id="upper-case-lowered"),
        pytest.param(f"u/sha256:{A}/p.png", A, id="prefix-removed"),
        pytest.param(f"u/sha256:{MIXED}", MIXED.lower(), id="prefix-and-case"),
        pytest.param(f"u/{A}.png", None, id="with-extension"),
        pytest.param(f"u/SHA256:{A}", None, id="prefix-is-case-sensitive"),
        pytest.param(f"u/sha256{A}", None, id="prefix-without-colon"),
        pytest.param(f"u/sha256:sha256:{A}", None, id="double-prefix"),
        pytest.param("u/" + "a" * 63, None, id="63-hex"),
        pytest.param("u/" + "a" * 65, None, id="65-hex"),
        pytest.param("u/" + "g" * 64, None, id="not-hex"),
        pytest.param(f"u/{A}\n", None, id="trailing-newline"),
        pytest.param(f"u/ {A}", None, id="leading-space"),
        pytest.param("u/" + "\uff41" * 64, None, id="fullwidth-letters"),
        pytest.param("u/" + "\u0661" * 64, None, id="arabic-indic-digits"),
        pytest.param("uploads/photo.png", None, id="no-hash"),
        pytest.param("", None, id="empty"),
    ],
)
def test_media_hash_of_source_key(source_key: str, want: str | None) -> None:
    assert media_hash_of_source_key(source_key) == want
