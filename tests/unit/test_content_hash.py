"""content_hash_of: the media hash an /img source key belongs to (http-api §5.1.8)."""

from __future__ import annotations

import pytest

from vylux_core.content_hash import content_hash_of

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
def test_content_hash_of(source_key: str, want: str | None) -> None:
    assert content_hash_of(source_key) == want
