"""KeyService on the memory key store: issuing content keys and delivering them to players."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import attrs
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vylux_adapters.memory import ManualClock, MemoryKeyStore
from vylux_core.errors import InvalidKeyToken, KeyNotFound, KeyUnwrapFailed, Unauthorized
from vylux_core.ports.key_store import StoredKey
from vylux_core.security.key_ring import AadScheme, KeyEncryptionKey, KeyRing, WrappedKey
from vylux_core.security.key_token import mint_key_token
from vylux_core.services.key_service import KeyService

TOKEN_SECRET = "test-key-token-secret"
HASH = "abcdef1234567890"
OTHER_HASH = "0123456789abcdef"
START = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
NOW = int(START.timestamp())
KEK = bytes(range(32))


class CounterEntropy:
    """Deterministic stand-in for the CSPRNG: each call returns the next counter value."""

    def __init__(self) -> None:
        self.calls = 0

    def token_bytes(self, n: int) -> bytes:
        self.calls += 1
        return self.calls.to_bytes(n, "big")


@dataclass
class Rig:
    clock: ManualClock
    keys: MemoryKeyStore
    entropy: CounterEntropy
    ring: KeyRing
    service: KeyService


def make_rig(base_url: str = "https://media.example.com") -> Rig:
    clock = ManualClock(START)
    keys = MemoryKeyStore(clock=clock)
    entropy = CounterEntropy()
    ring = KeyRing(
        keks=[KeyEncryptionKey(version="v1", key=KEK)],
        current_version="v1",
        entropy=entropy,
    )
    service = KeyService(
        keys=keys, ring=ring, token_secret=TOKEN_SECRET, base_url=base_url, clock=clock
    )
    return Rig(clock, keys, entropy, ring, service)


def bearer(media_hash: str = HASH, exp: int = NOW + 3600, secret: str = TOKEN_SECRET) -> str:
    return "Bearer " + mint_key_token(secret, media_hash, exp)


# --- key URI and issuing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "want"),
    [
        pytest.param("https://media.example.com", f"https://media.example.com/api/key/{HASH}"),
        pytest.param("https://media.example.com/", f"https://media.example.com/api/key/{HASH}"),
        pytest.param("https://x.test/vylux", f"https://x.test/vylux/api/key/{HASH}", id="path"),
        pytest.param("", f"/api/key/{HASH}", id="no-base-url"),
    ],
)
def test_key_uri(base_url: str, want: str) -> None:
    assert make_rig(base_url).service.key_uri(HASH) == want


async def test_content_key_is_created_once_and_reused() -> None:
    rig = make_rig()

    first_key, first_uri = await rig.service.content_key_for(HASH)
    draws = rig.entropy.calls
    second_key, second_uri = await rig.service.content_key_for(HASH)

    assert second_key == first_key
    assert second_key.key == first_key.key
    assert second_key.kid == first_key.kid
    assert first_uri == second_uri == f"https://media.example.com/api/key/{HASH}"
    assert rig.entropy.calls == draws  # a re-run draws no new key, kid or nonce
    stored = await rig.keys.get(HASH)
    assert stored is not None
    assert (stored.kid, stored.scheme, stored.key_uri) == (first_key.kid_hex, "cbcs", first_uri)
    assert stored.created_at == START
    assert len(first_key.key) == 16
    assert len(first_key.kid) == 16


async def test_each_hash_gets_its_own_key() -> None:
    rig = make_rig()
    one, _ = await rig.service.content_key_for(HASH)
    other, _ = await rig.service.content_key_for(OTHER_HASH)
    assert one.key != other.key
    assert one.kid != other.kid


async def test_a_stored_key_keeps_its_uri_after_base_url_changes() -> None:
    rig = make_rig("https://old.example.com")
    _, uri = await rig.service.content_key_for(HASH)
    moved = KeyService(
        keys=rig.keys,
        ring=rig.ring,
        token_secret=TOKEN_SECRET,
        base_url="https://new.example.com",
        clock=rig.clock,
    )
    _, again = await moved.content_key_for(HASH)
    assert again == uri == f"https://old.example.com/api/key/{HASH}"


# --- delivery ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("", id="empty-header"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("bearer " + mint_key_token(TOKEN_SECRET, HASH, NOW + 60), id="lower-bearer"),
        pytest.param("Bearer", id="prefix-without-space"),
        pytest.param("Bearer ", id="empty-token"),
        pytest.param(mint_key_token(TOKEN_SECRET, HASH, NOW + 60), id="bare-token"),
    ],
)
async def test_no_bearer_token_is_unauthorized(authorization: str | None) -> None:
    rig = make_rig()
    await rig.service.content_key_for(HASH)
    with pytest.raises(Unauthorized) as caught:
        await rig.service.deliver(HASH, authorization)
    assert type(caught.value) is Unauthorized  # not its InvalidKeyToken (403) subclass


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer invalid.token", id="garbage"),
        pytest.param("Bearer no-dot", id="no-dot"),
        pytest.param("Bearer  " + mint_key_token(TOKEN_SECRET, HASH, NOW + 60), id="two-spaces"),
        pytest.param(bearer(secret="another-secret"), id="wrong-secret"),
        pytest.param(bearer(exp=NOW - 3600), id="expired-an-hour-ago"),
        pytest.param(bearer(exp=NOW - 1), id="expired-a-second-ago"),
        pytest.param(bearer(media_hash="wrong-hash"), id="hash-mismatch"),
        pytest.param(bearer(media_hash=HASH.upper()), id="hash-case-differs"),
    ],
)
async def test_a_bad_token_is_rejected(authorization: str) -> None:
    rig = make_rig()
    await rig.service.content_key_for(HASH)
    with pytest.raises(InvalidKeyToken):
        await rig.service.deliver(HASH, authorization)


async def test_a_token_expires_after_its_exp_second() -> None:
    rig = make_rig()
    content_key, _ = await rig.service.content_key_for(HASH)
    token = bearer(exp=NOW + 10)

    rig.clock.advance(10)  # now == exp: still valid
    assert await rig.service.deliver(HASH, token) == content_key.key
    rig.clock.advance(1)
    with pytest.raises(InvalidKeyToken, match="expired"):
        await rig.service.deliver(HASH, token)


async def test_a_valid_token_without_a_key_is_not_found() -> None:
    rig = make_rig()
    with pytest.raises(KeyNotFound):
        await rig.service.deliver(HASH, bearer())


async def test_a_valid_token_gets_the_content_key() -> None:
    rig = make_rig()
    content_key, _ = await rig.service.content_key_for(HASH)
    delivered = await rig.service.deliver(HASH, bearer())
    assert delivered == content_key.key
    assert len(delivered) == 16


async def test_a_reference_row_wrapped_without_the_hash_still_delivers() -> None:
    rig = make_rig()
    content_key, nonce = bytes(range(16, 32)), bytes(12)
    legacy = WrappedKey(
        media_hash=HASH,
        wrapped_key=AESGCM(KEK).encrypt(nonce, content_key, b"v1"),
        nonce=nonce,
        kek_version="v1",
        aad_scheme=AadScheme.VERSION_ONLY,
    )
    await rig.keys.put_if_absent(
        StoredKey(
            media_hash=HASH, wrapped=legacy, kid="00" * 16, scheme="cbcs", key_uri="/api/key/x"
        )
    )
    assert await rig.service.deliver(HASH, bearer()) == content_key


def _copy_onto(source: StoredKey, media_hash: str, *, rebind: bool) -> StoredKey:
    wrapped = attrs.evolve(source.wrapped, media_hash=media_hash) if rebind else source.wrapped
    return attrs.evolve(source, media_hash=media_hash, wrapped=wrapped)


@pytest.mark.parametrize(
    "rebind",
    [
        pytest.param(False, id="wrapped-value-copied-verbatim"),
        pytest.param(True, id="bytes-copied-as-a-sql-row-would-be-read"),
    ],
)
async def test_a_key_wrapped_for_another_hash_does_not_unwrap(rebind: bool) -> None:
    rig = make_rig()
    await rig.service.content_key_for(HASH)
    stored = await rig.keys.get(HASH)
    assert stored is not None
    await rig.keys.put_if_absent(_copy_onto(stored, OTHER_HASH, rebind=rebind))

    with pytest.raises(KeyUnwrapFailed):
        await rig.service.deliver(OTHER_HASH, bearer(media_hash=OTHER_HASH))
    with pytest.raises(KeyUnwrapFailed):
        await rig.service.content_key_for(OTHER_HASH)
