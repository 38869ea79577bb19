"""Key ring: AES-256-GCM wrapping of content keys under versioned KEKs (U25, rotation, config)."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vylux_core.errors import InvalidHash, InvalidInput, KeyUnwrapFailed
from vylux_core.security.key_ring import (
    AadScheme,
    ContentKey,
    KeyEncryptionKey,
    KeyRing,
    WrappedKey,
    parse_kek_config,
)

KEK_V1 = bytes(range(32))
KEK_V2 = bytes(range(100, 132))
KEY_HEXES = (KEK_V1.hex(), KEK_V2.hex())
CONTENT_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
HASH = "abcdef1234567890"
OTHER_HASH = "0123456789abcdef"


class CounterEntropy:
    """Deterministic stand-in for the CSPRNG: each call returns the next counter value."""

    def __init__(self) -> None:
        self.calls = 0

    def token_bytes(self, n: int) -> bytes:
        self.calls += 1
        return self.calls.to_bytes(n, "big")


class ShortEntropy:
    """A broken entropy adapter that returns one byte too few."""

    def token_bytes(self, n: int) -> bytes:
        return bytes(max(n - 1, 0))


def make_ring(*versions: tuple[str, bytes], current: str | None = None) -> KeyRing:
    keks = [KeyEncryptionKey(version=v, key=k) for v, k in versions]
    return KeyRing(
        keks=keks,
        current_version=current if current is not None else keks[0].version,
        entropy=CounterEntropy(),
    )


def ring_v1() -> KeyRing:
    return make_ring(("v1", KEK_V1))


def assert_no_secrets(text: str) -> None:
    lowered = text.lower()
    for secret in (*KEY_HEXES, CONTENT_KEY.hex()):
        assert secret not in lowered
    for raw in (KEK_V1, KEK_V2, CONTENT_KEY):
        assert repr(raw) not in text


# --- U25: round trip and version rejection ------------------------------------------------


def test_wrap_unwrap_round_trip() -> None:
    ring = ring_v1()
    wrapped = ring.wrap(HASH, CONTENT_KEY)

    assert ring.unwrap(wrapped) == CONTENT_KEY
    assert wrapped.wrapped_key != CONTENT_KEY
    assert CONTENT_KEY not in wrapped.wrapped_key
    assert len(wrapped.wrapped_key) == 32
    assert len(wrapped.nonce) == 12
    assert (wrapped.media_hash, wrapped.kek_version, wrapped.aad_scheme) == (
        HASH,
        "v1",
        AadScheme.VERSION_AND_HASH,
    )


def test_each_wrap_uses_a_fresh_nonce() -> None:
    ring = ring_v1()
    first, second = ring.wrap(HASH, CONTENT_KEY), ring.wrap(HASH, CONTENT_KEY)
    assert first.nonce != second.nonce
    assert first.wrapped_key != second.wrapped_key


def _flip(data: bytes, index: int) -> bytes:
    flipped = bytearray(data)
    flipped[index] ^= 0x01
    return bytes(flipped)


Mutation = Callable[[WrappedKey], WrappedKey]


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda w: attrs.evolve(w, kek_version="v2"), id="version-not-in-ring"),
        pytest.param(lambda w: attrs.evolve(w, kek_version=""), id="empty-version"),
        pytest.param(lambda w: attrs.evolve(w, media_hash=OTHER_HASH), id="copied-to-other-hash"),
        pytest.param(
            lambda w: attrs.evolve(w, aad_scheme=AadScheme.VERSION_ONLY), id="scheme-downgraded"
        ),
        pytest.param(
            lambda w: attrs.evolve(w, wrapped_key=_flip(w.wrapped_key, 0)), id="tampered-cipher"
        ),
        pytest.param(
            lambda w: attrs.evolve(w, wrapped_key=_flip(w.wrapped_key, 31)), id="tampered-tag"
        ),
        pytest.param(lambda w: attrs.evolve(w, nonce=_flip(w.nonce, 5)), id="tampered-nonce"),
        pytest.param(lambda w: attrs.evolve(w, wrapped_key=w.wrapped_key[:-1]), id="short-key"),
        pytest.param(lambda w: attrs.evolve(w, wrapped_key=w.wrapped_key + b"\0"), id="long-key"),
        pytest.param(lambda w: attrs.evolve(w, nonce=w.nonce[:8]), id="short-nonce"),
        pytest.param(lambda w: attrs.evolve(w, wrapped_key=b"", nonce=b""), id="empty-row"),
    ],
)
def test_unwrap_rejects_bad_rows(mutate: Mutation) -> None:
    ring = ring_v1()
    good = ring.wrap(HASH, CONTENT_KEY)
    bad = mutate(good)

    with pytest.raises(KeyUnwrapFailed) as info:
        ring.unwrap(bad)

    assert info.value.code == "key_unwrap_failed"
    assert_no_secrets(str(info.value))
    assert good.wrapped_key.hex() not in str(info.value)
    assert good.nonce.hex() not in str(info.value)


def test_unwrap_with_a_different_kek_under_the_same_version_fails() -> None:
    wrapped = ring_v1().wrap(HASH, CONTENT_KEY)
    impostor = make_ring(("v1", KEK_V2))
    with pytest.raises(KeyUnwrapFailed):
        impostor.unwrap(wrapped)


# --- rotation and legacy rows ---------------------------------------------------------------


def test_rotation_keeps_old_rows_readable_and_rewrap_migrates_them() -> None:
    old = ring_v1().wrap(HASH, CONTENT_KEY)
    rotated = make_ring(("v2", KEK_V2), ("v1", KEK_V1))

    assert rotated.current_version == "v2"
    assert rotated.versions == ("v2", "v1")
    assert rotated.unwrap(old) == CONTENT_KEY
    assert rotated.needs_rewrap(old)

    migrated = rotated.rewrap(old)

    assert migrated.kek_version == "v2"
    assert migrated.aad_scheme is AadScheme.VERSION_AND_HASH
    assert migrated.media_hash == HASH
    assert not rotated.needs_rewrap(migrated)
    assert rotated.unwrap(migrated) == CONTENT_KEY
    # Once v1 is retired, only the migrated row still opens.
    v2_only = make_ring(("v2", KEK_V2))
    assert v2_only.unwrap(migrated) == CONTENT_KEY
    with pytest.raises(KeyUnwrapFailed):
        v2_only.unwrap(old)


def test_rewrap_returns_a_current_row_unchanged() -> None:
    ring = ring_v1()
    wrapped = ring.wrap(HASH, CONTENT_KEY)
    assert ring.rewrap(wrapped) is wrapped


def legacy_row(media_hash: str = HASH) -> WrappedKey:
    # Made exactly like the reference worker: AAD is the version text only.
    nonce = bytes(range(12))
    sealed = AESGCM(KEK_V1).encrypt(nonce, CONTENT_KEY, b"v1")
    return WrappedKey(
        media_hash=media_hash,
        wrapped_key=sealed,
        nonce=nonce,
        kek_version="v1",
        aad_scheme=AadScheme.VERSION_ONLY,
    )


def test_legacy_version_only_row_unwraps_and_migrates() -> None:
    ring = ring_v1()
    row = legacy_row()

    assert ring.unwrap(row) == CONTENT_KEY
    assert ring.needs_rewrap(row)
    migrated = ring.rewrap(row)
    assert (migrated.kek_version, migrated.aad_scheme) == ("v1", AadScheme.VERSION_AND_HASH)
    assert ring.unwrap(migrated) == CONTENT_KEY
    with pytest.raises(KeyUnwrapFailed):
        ring.unwrap(attrs.evolve(row, aad_scheme=AadScheme.VERSION_AND_HASH))


@pytest.mark.parametrize(
    ("version", "scheme", "want"),
    [
        pytest.param("v2", AadScheme.VERSION_AND_HASH, False, id="current"),
        pytest.param("v1", AadScheme.VERSION_AND_HASH, True, id="old-version"),
        pytest.param("v2", AadScheme.VERSION_ONLY, True, id="legacy-scheme"),
        pytest.param("v1", AadScheme.VERSION_ONLY, True, id="both-old"),
    ],
)
def test_needs_rewrap(version: str, scheme: AadScheme, want: bool) -> None:
    ring = make_ring(("v2", KEK_V2), ("v1", KEK_V1))
    row = WrappedKey(
        media_hash=HASH, wrapped_key=b"", nonce=b"", kek_version=version, aad_scheme=scheme
    )
    assert ring.needs_rewrap(row) is want


# --- wrap inputs, content keys, entropy -----------------------------------------------------


@pytest.mark.parametrize(
    ("media_hash", "key", "error"),
    [
        pytest.param(HASH, CONTENT_KEY[:15], InvalidInput, id="short-key"),
        pytest.param(HASH, CONTENT_KEY + b"\0", InvalidInput, id="long-key"),
        pytest.param("../other", CONTENT_KEY, InvalidHash, id="path-like-hash"),
        pytest.param("", CONTENT_KEY, InvalidHash, id="empty-hash"),
    ],
)
def test_wrap_rejects_bad_input(media_hash: str, key: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        ring_v1().wrap(media_hash, key)
    assert_no_secrets(str(info.value))


def test_new_content_key_comes_from_entropy() -> None:
    entropy = CounterEntropy()
    ring = KeyRing(
        keks=[KeyEncryptionKey(version="v1", key=KEK_V1)], current_version="v1", entropy=entropy
    )

    content = ring.new_content_key()

    assert content == ContentKey(key=(1).to_bytes(16, "big"), kid=(2).to_bytes(16, "big"))
    assert content.key_hex == "00" * 15 + "01"
    assert content.kid_hex == "00" * 15 + "02"
    assert entropy.calls == 2
    assert content.key_hex not in repr(content)
    assert content.kid_hex in repr(content)


def test_short_entropy_output_is_refused() -> None:
    ring = KeyRing(
        keks=[KeyEncryptionKey(version="v1", key=KEK_V1)],
        current_version="v1",
        entropy=ShortEntropy(),
    )
    with pytest.raises(RuntimeError, match="expected 12"):
        ring.wrap(HASH, CONTENT_KEY)


@pytest.mark.parametrize(
    ("key", "kid"),
    [
        pytest.param(bytes(15), bytes(16), id="short-key"),
        pytest.param(bytes(16), bytes(17), id="long-kid"),
    ],
)
def test_content_key_requires_16_bytes(key: bytes, kid: bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        ContentKey(key=key, kid=kid)


# --- construction and reprs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keks", "current", "message"),
    [
        pytest.param([("v1", KEK_V1)], "v2", "'v2' is not in the ring", id="unknown-current"),
        pytest.param([], "v1", "'v1' is not in the ring", id="empty-ring"),
        pytest.param(
            [("v1", KEK_V1), ("v1", KEK_V2)], "v1", "duplicate .* 'v1'", id="duplicate-version"
        ),
    ],
)
def test_key_ring_construction_errors(
    keks: list[tuple[str, bytes]], current: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        KeyRing(
            keks=[KeyEncryptionKey(version=v, key=k) for v, k in keks],
            current_version=current,
            entropy=CounterEntropy(),
        )
    assert_no_secrets(str(info.value))


@pytest.mark.parametrize(
    ("version", "key", "message"),
    [
        pytest.param("v3", KEK_V1[:31], "'v3' must be exactly 32 bytes", id="short-key"),
        pytest.param("v3", KEK_V1 + b"\0", "'v3' must be exactly 32 bytes", id="long-key"),
        pytest.param("", KEK_V1, "version must be", id="empty-version"),
        pytest.param("v\x001", KEK_V1, "version must be", id="nul-in-version"),
        pytest.param(KEY_HEXES[0], KEK_V1, "version must be", id="key-hex-as-version"),
    ],
)
def test_kek_validation(version: str, key: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        KeyEncryptionKey(version=version, key=key)
    assert_no_secrets(str(info.value))


def test_reprs_hide_key_material() -> None:
    ring = make_ring(("v2", KEK_V2), ("v1", KEK_V1))
    wrapped = ring.wrap(HASH, CONTENT_KEY)
    kek = KeyEncryptionKey(version="v1", key=KEK_V1)

    for text in (repr(kek), repr(ring), repr(wrapped), repr(ContentKey(CONTENT_KEY, KEK_V1[:16]))):
        assert_no_secrets(text)
    assert repr(kek) == "KeyEncryptionKey(version='v1')"
    assert repr(ring) == "KeyRing(versions=('v2', 'v1'), current_version='v2')"
    assert "wrapped_key=<32 bytes>" in repr(wrapped)
    assert "nonce=<12 bytes>" in repr(wrapped)
    assert wrapped.wrapped_key.hex() not in repr(wrapped)


# --- ENCRYPTION_KEY parsing -----------------------------------------------------------------

HEX1, HEX2 = KEY_HEXES


@pytest.mark.parametrize(
    ("text", "want_versions", "want_keys", "want_current"),
    [
        pytest.param(HEX1, ["v1"], [KEK_V1], "v1", id="single-hex-is-v1"),
        pytest.param(f"  {HEX1.upper()}\n", ["v1"], [KEK_V1], "v1", id="single-upper-padded"),
        pytest.param(f"v1:{HEX1}", ["v1"], [KEK_V1], "v1", id="single-versioned"),
        pytest.param(
            f"v2:{HEX2},v1:{HEX1}", ["v2", "v1"], [KEK_V2, KEK_V1], "v2", id="list-first-current"
        ),
        pytest.param(
            f" v1 : {HEX1} , 2024-06.b:{HEX2} ",
            ["v1", "2024-06.b"],
            [KEK_V1, KEK_V2],
            "v1",
            id="list-with-spaces",
        ),
    ],
)
def test_parse_kek_config_accepts(
    text: str, want_versions: list[str], want_keys: list[bytes], want_current: str
) -> None:
    keks, current = parse_kek_config(text)

    assert [k.version for k in keks] == want_versions
    assert [k.key for k in keks] == want_keys
    assert current == want_current
    KeyRing(keks=keks, current_version=current, entropy=CounterEntropy())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "ENCRYPTION_KEY is empty", id="empty"),
        pytest.param("   ", "ENCRYPTION_KEY is empty", id="blank"),
        pytest.param(HEX1[:-2], "version 'v1' must be 64 hex characters", id="short-hex"),
        pytest.param(HEX1 + "00", "version 'v1' must be 64 hex characters", id="long-hex"),
        pytest.param("zz" + HEX1[2:], "version 'v1' contains non-hex", id="bad-hex"),
        pytest.param(HEX1[:30] + " " + HEX1[31:], "'v1' contains non-hex", id="inner-space"),
        pytest.param(f"v2:{HEX2[:-1]},v1:{HEX1}", "version 'v2' must be 64", id="list-short"),
        pytest.param(f"v2:{HEX2},v1:{'g' * 64}", "version 'v1' contains non-hex", id="list-bad"),
        pytest.param(f"v1:{HEX1},v1:{HEX2}", "version 'v1' more than once", id="duplicate"),
        pytest.param(f"v2:{HEX2},", "entry 2 must look like", id="trailing-comma"),
        pytest.param(f"{HEX1},{HEX2}", "entry 1 must look like", id="list-without-versions"),
        pytest.param(f":{HEX1}", "entry 1: version must be", id="missing-version"),
        pytest.param(f"{HEX1}:v1", "entry 1: version must be", id="swapped-fields"),
        pytest.param(f"v 2:{HEX1}", "entry 1: version must be", id="space-in-version"),
        pytest.param("v1:", "version 'v1' must be 64 hex characters", id="missing-key"),
    ],
)
def test_parse_kek_config_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_kek_config(text)

    assert "ENCRYPTION_KEY" in str(info.value)
    assert_no_secrets(str(info.value))
    for fragment in (HEX1[:16], HEX2[:16], HEX1[:16].upper()):
        assert fragment not in str(info.value)
