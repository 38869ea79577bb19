"""The ``/img`` option grammar under 10 000+ hostile inputs per test: it only ever raises
``InvalidImageOptions`` with a ``bad options:`` message, and what it accepts is exactly
what an independent reading of the grammar (spec §5.1.2 plus the 8192 cap, D7) accepts.

The unit tests (tests/unit/test_image_options.py) hold the tables and 100-example
properties; these are the large-budget versions with a differential oracle.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.reliability.fuzz_budget import fuzz
from tests.reliability.mutations import Entropy, any_text, built, mutate
from vylux_core.errors import InvalidImageOptions
from vylux_core.images.options import (
    MAX_DIMENSION,
    ImageFormat,
    ImageOptions,
    canonical_options,
    parse_image_options,
    processing_hash,
)
from vylux_core.security.signing import UrlSigner

pytestmark = [pytest.mark.reliability]

SIGNER = UrlSigner(secret="fuzz-hmac-secret")
_TOKEN = re.compile(r"([whq])([+-]?[0-9]+)")
_RANGES = {"w": (0, MAX_DIMENSION), "h": (0, MAX_DIMENSION), "q": (1, 100)}


def oracle(text: str) -> dict[str, Decimal] | None:
    """The grammar read straight from the spec: letter, optional sign, ASCII digits."""
    if text == "":
        return {}
    values: dict[str, Decimal] = {}
    for token in text.split("_"):
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        # Decimal, not int: int() refuses strings of more than 4300 digits.
        letter, value = match.group(1), Decimal(match.group(2))
        low, high = _RANGES[letter]
        if not low <= value <= high:
            return None
        values[letter] = value  # the last one wins
    return values


def parsed(text: str) -> ImageOptions | InvalidImageOptions:
    try:
        return parse_image_options(text)
    except InvalidImageOptions as error:
        return error


def check(text: str) -> None:
    want = oracle(text)
    got = parsed(text)
    if isinstance(got, InvalidImageOptions):
        assert want is None, f"{text!r} is valid ({want}) but was refused: {got}"
        assert str(got).startswith("bad options: ")
        str(got).encode("utf-8")  # it becomes a JSON body; a lone surrogate would be a 500
        return
    assert want is not None, f"{text!r} is invalid but parsed as {got}"
    assert (got.width, got.height, got.quality) == (want.get("w"), want.get("h"), want.get("q"))
    canonical = canonical_options(got)
    assert parse_image_options(canonical) == got
    for fmt in ImageFormat:
        assert len(processing_hash("k", got, fmt)) == 64
    if not got.is_empty:
        SIGNER.verify_image(
            SIGNER.sign_image(got, "k", ImageFormat.WEBP), got, "k", ImageFormat.WEBP
        )


_LETTERS = ("w", "h", "q", "w", "h", "q", "x", "W", "", "ｗ", "\x00", "\ud800", "é")
_SIGNS = ("", "", "", "+", "-", "++", "+-", " ", "\t", "\u2212")
_DIGITS = (
    "0", "1", "7", "99", "100", "101", "8191", "8192", "8193", "65536",
    "9223372036854775807", "9223372036854775808", "1" * 40, "9" * 5000, "0" * 5000 + "7",
    # Non-ASCII decimal digits: Python's int() takes them, Go's Atoi does not.
    "٣", "１２", "߀", "1_000", " 7", "7 ", "1e3", "0x10", ".5", "",
)  # fmt: skip
_SEPARATORS = ("_", "_", "_", "_", "__", "", "-", ",", " ", "_\x00", "/")
_PIECES = ("_", "w", "h", "q", "+", "-", "0", "9", "8193", "\x00", "%", "٣", " ", "__")


def grammar_shaped(entropy: Entropy) -> str:
    """Up to six tokens of letter, sign, zeros and digits, joined like options."""
    tokens = []
    for _ in range(entropy.below(7)):
        number = entropy.pick(_DIGITS) if entropy.chance(70) else str(entropy.integer(0, 10**6))
        tokens.append(
            entropy.pick(_LETTERS)
            + entropy.pick(_SIGNS)
            + "0" * entropy.pick((0, 0, 0, 1, 3, 40))
            + number
            + entropy.pick(_SEPARATORS)
        )
    return mutate("".join(tokens).rstrip("_"), entropy, _PIECES)


def test_arbitrary_text() -> None:
    fuzz(check, any_text())


def test_grammar_shaped_and_damaged() -> None:
    fuzz(check, built(grammar_shaped))
