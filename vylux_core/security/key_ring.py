"""AES-256-GCM key ring: wraps 16-byte content keys under versioned key-encryption keys."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vylux_core.errors import InvalidInput, KeyUnwrapFailed
from vylux_core.media.media_hash import validate_media_hash

if TYPE_CHECKING:
    # Type-only: the ports package imports this module (StoredKey holds a WrappedKey).
    from vylux_core.ports.entropy import Entropy

KEK_BYTES = 32  # AES-256
CONTENT_KEY_BYTES = 16  # AES-128 key for CBCS HLS
KID_BYTES = 16
NONCE_BYTES = 12  # the GCM standard nonce size
_TAG_BYTES = 16
WRAPPED_KEY_BYTES = CONTENT_KEY_BYTES + _TAG_BYTES

# What a bare hex ENCRYPTION_KEY means; rows written by the Go implementation carry it.
LEGACY_KEK_VERSION = "v1"

# Versions end up in a DB column, in the AAD and in the "v2:<hex>,v1:<hex>" config syntax:
# keeping them to a small charset excludes "\x00" (the AAD separator), ":" and ",".
_VERSION_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,32}")
_VERSION_RULE = "1-32 characters of A-Z, a-z, 0-9, '.', '_' or '-'"
_KEK_HEX_PATTERN = re.compile(r"[0-9A-Fa-f]{64}")


class AadScheme(enum.StrEnum):
    """What the GCM additional authenticated data of a wrapped key is made of.

    The values are stable: adapters store them next to the wrapped key.
    """

    # Rows written by the Go implementation: AAD = the version text (e.g. b"v1"). Unwrapped
    # so they can be read and migrated with KeyRing.rewrap, never written (D16).
    VERSION_ONLY = "version"
    # Our rows: AAD = version + NUL + media hash. Binding the hash means a wrapped key copied
    # (by mistake or by an attacker with DB write access) onto another hash's row fails to
    # unwrap instead of handing that hash's viewers a key for different content.
    VERSION_AND_HASH = "version_hash"


def _aad(scheme: AadScheme, version: str, media_hash: str) -> bytes:
    if scheme is AadScheme.VERSION_ONLY:
        return version.encode()
    # Unambiguous because versions cannot contain "\x00" (_VERSION_PATTERN).
    return f"{version}\x00{media_hash}".encode()


def _byte_count(value: bytes) -> str:
    # Reprs show sizes only: short, and no key material ends up in logs.
    return f"<{len(value)} bytes>"


def _is_valid_version(version: str) -> bool:
    return _VERSION_PATTERN.fullmatch(version) is not None


def _check_version(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    # The rejected text is not echoed: a misplaced config field may put a key where the
    # version belongs.
    if not _is_valid_version(value):
        raise ValueError(f"key-encryption key version must be {_VERSION_RULE}")


def _check_kek_length(
    instance: KeyEncryptionKey, _attribute: attrs.Attribute[bytes], value: bytes
) -> None:
    if len(value) != KEK_BYTES:
        raise ValueError(
            f"key-encryption key {instance.version!r} must be exactly {KEK_BYTES} bytes"
            f" (AES-256), got {len(value)}"
        )


@attrs.frozen
class KeyEncryptionKey:
    """One version of the key that wraps content keys. Its repr never shows the key."""

    version: str = attrs.field(validator=_check_version)
    key: bytes = attrs.field(repr=False, validator=_check_kek_length)


def _check_content_key_length(
    _instance: object, attribute: attrs.Attribute[bytes], value: bytes
) -> None:
    if len(value) != CONTENT_KEY_BYTES:
        raise ValueError(f"content {attribute.name} must be {CONTENT_KEY_BYTES} bytes")


@attrs.frozen
class ContentKey:
    """A fresh AES-128 content key and its key id (KID) for CBCS packaging."""

    key: bytes = attrs.field(repr=False, validator=_check_content_key_length)
    # The KID is public (it is written into playlists), so the repr shows it.
    kid: bytes = attrs.field(repr=lambda kid: kid.hex(), validator=_check_content_key_length)

    @property
    def kid_hex(self) -> str:
        """The KID as 32 lowercase hex characters (the ``encryption_keys.kid`` column)."""
        return self.kid.hex()

    @property
    def key_hex(self) -> str:
        """The key as 32 lowercase hex characters (packager argument; never log it)."""
        return self.key.hex()


@attrs.frozen
class WrappedKey:
    """A content key sealed under one KEK version, as stored per media hash.

    No validation here: adapters build this from DB rows, and a malformed row should surface
    as :class:`KeyUnwrapFailed` when it is used, not as a crash while reading it.
    """

    media_hash: str
    wrapped_key: bytes = attrs.field(repr=_byte_count)  # ciphertext ‖ 16-byte tag
    nonce: bytes = attrs.field(repr=_byte_count)
    kek_version: str
    aad_scheme: AadScheme


class KeyRing:
    """Wraps content keys with the current KEK and unwraps with any known version.

    Rotation without downtime: deploy a ring whose current version is new while the old
    versions stay listed; old rows keep unwrapping and :meth:`rewrap` migrates them.
    """

    def __init__(
        self, *, keks: Sequence[KeyEncryptionKey], current_version: str, entropy: Entropy
    ) -> None:
        ciphers: dict[str, AESGCM] = {}
        for kek in keks:
            if kek.version in ciphers:
                raise ValueError(f"duplicate key-encryption key version {kek.version!r}")
            ciphers[kek.version] = AESGCM(kek.key)
        if current_version not in ciphers:
            raise ValueError(
                f"current key-encryption key version {current_version!r} is not in the ring"
            )
        self._ciphers = ciphers
        self._current_version = current_version
        self._entropy = entropy

    def __repr__(self) -> str:
        return f"KeyRing(versions={self.versions!r}, current_version={self._current_version!r})"

    @property
    def current_version(self) -> str:
        """The version that :meth:`wrap` uses."""
        return self._current_version

    @property
    def versions(self) -> tuple[str, ...]:
        """Every version that :meth:`unwrap` accepts, in configuration order."""
        return tuple(self._ciphers)

    def new_content_key(self) -> ContentKey:
        """Draw a fresh content key and KID from the entropy port."""
        return ContentKey(
            key=self._random_bytes(CONTENT_KEY_BYTES), kid=self._random_bytes(KID_BYTES)
        )

    def wrap(self, media_hash: str, key: bytes) -> WrappedKey:
        """Seal ``key`` for ``media_hash`` with the current version and a fresh nonce.

        Raises :class:`InvalidHash` for a bad hash, :class:`InvalidInput` unless ``key`` is
        16 bytes.
        """
        validate_media_hash(media_hash)
        if len(key) != CONTENT_KEY_BYTES:
            raise InvalidInput(f"content key must be {CONTENT_KEY_BYTES} bytes, got {len(key)}")
        version = self._current_version
        scheme = AadScheme.VERSION_AND_HASH
        # Random 96-bit nonces are safe for far more wraps per KEK than one hash-keyed table
        # will see (NIST's 2**32 bound); the nonce is stored beside the ciphertext.
        nonce = self._random_bytes(NONCE_BYTES)
        sealed = self._ciphers[version].encrypt(nonce, key, _aad(scheme, version, media_hash))
        return WrappedKey(
            media_hash=media_hash,
            wrapped_key=sealed,
            nonce=nonce,
            kek_version=version,
            aad_scheme=scheme,
        )

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Open ``wrapped`` with its own version and AAD scheme and return the 16-byte key.

        Raises :class:`KeyUnwrapFailed` when the version is not in the ring, a length is
        wrong, or authentication fails (tampered bytes, another hash's row, wrong KEK).
        Messages name the hash and version, never key bytes.
        """
        where = f"hash {wrapped.media_hash!r}, key-encryption key version {wrapped.kek_version!r}"
        cipher = self._ciphers.get(wrapped.kek_version)
        if cipher is None:
            raise KeyUnwrapFailed(f"cannot unwrap key for {where}: version not configured")
        if len(wrapped.nonce) != NONCE_BYTES or len(wrapped.wrapped_key) != WRAPPED_KEY_BYTES:
            raise KeyUnwrapFailed(
                f"cannot unwrap key for {where}: expected a {NONCE_BYTES}-byte nonce and"
                f" {WRAPPED_KEY_BYTES}-byte wrapped key, got {len(wrapped.nonce)} and"
                f" {len(wrapped.wrapped_key)}"
            )
        aad = _aad(wrapped.aad_scheme, wrapped.kek_version, wrapped.media_hash)
        try:
            return cipher.decrypt(wrapped.nonce, wrapped.wrapped_key, aad)
        except InvalidTag as exc:
            raise KeyUnwrapFailed(
                f"cannot unwrap key for {where}: authentication failed"
                " (tampered data, wrong hash or wrong key-encryption key)"
            ) from exc

    def needs_rewrap(self, wrapped: WrappedKey) -> bool:
        """True unless ``wrapped`` uses the current version and the hash-binding scheme."""
        return not is_current_wrapping(wrapped, self._current_version)

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        """Migrate ``wrapped`` to the current version and the hash-binding scheme.

        A row that is already current is returned unchanged (the same object, not decrypted,
        so not verified either). Otherwise the key is unwrapped with the row's own version
        and scheme and wrapped anew with a fresh nonce. Raises :class:`KeyUnwrapFailed` like
        :meth:`unwrap`, and :class:`InvalidHash` if a legacy row's hash is not valid today.
        """
        if not self.needs_rewrap(wrapped):
            return wrapped
        return self.wrap(wrapped.media_hash, self.unwrap(wrapped))

    def _random_bytes(self, n: int) -> bytes:
        value = self._entropy.token_bytes(n)
        # A broken entropy adapter must not silently shorten nonces or keys.
        if len(value) != n:
            raise RuntimeError(f"entropy port returned {len(value)} bytes, expected {n}")
        return value


def is_current_wrapping(wrapped: WrappedKey, current_version: str) -> bool:
    """Whether ``wrapped`` is sealed the way new keys are: with ``current_version``
    and the hash-binding AAD. Key stores use it to pick rows for rotation."""
    return (
        wrapped.kek_version == current_version and wrapped.aad_scheme is AadScheme.VERSION_AND_HASH
    )


def parse_kek_config(text: str) -> tuple[list[KeyEncryptionKey], str]:
    """Parse ``ENCRYPTION_KEY`` into its keys and the current version.

    Accepted forms: one bare 64-hex key (version ``v1``), or
    ``v2:<64 hex>,v1:<64 hex>`` where the first entry is current. Raises ValueError naming
    ENCRYPTION_KEY (and the version when it is well formed), never echoing key text.
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError("ENCRYPTION_KEY is empty")
    if ":" not in stripped and "," not in stripped:
        return [_parse_kek_entry(LEGACY_KEK_VERSION, stripped)], LEGACY_KEK_VERSION
    keks = list(_parse_kek_entries(stripped.split(",")))
    return keks, keks[0].version


def _parse_kek_entries(entries: Iterable[str]) -> Iterable[KeyEncryptionKey]:
    seen: set[str] = set()
    for position, raw in enumerate(entries, start=1):
        version, separator, key_text = raw.strip().partition(":")
        version = version.strip()
        if not separator:
            raise ValueError(f"ENCRYPTION_KEY entry {position} must look like 'version:<64 hex>'")
        if not _is_valid_version(version):
            raise ValueError(f"ENCRYPTION_KEY entry {position}: version must be {_VERSION_RULE}")
        if version in seen:
            raise ValueError(f"ENCRYPTION_KEY lists version {version!r} more than once")
        seen.add(version)
        yield _parse_kek_entry(version, key_text.strip())


def _parse_kek_entry(version: str, key_text: str) -> KeyEncryptionKey:
    # Only lengths and positions go into messages: the text itself is (nearly) a key.
    if len(key_text) != KEK_BYTES * 2:
        raise ValueError(
            f"ENCRYPTION_KEY version {version!r} must be {KEK_BYTES * 2} hex characters"
            f" ({KEK_BYTES} bytes, AES-256), got {len(key_text)} characters"
        )
    # A regex rather than bytes.fromhex alone: fromhex would also accept inner spaces.
    if _KEK_HEX_PATTERN.fullmatch(key_text) is None:
        raise ValueError(f"ENCRYPTION_KEY version {version!r} contains non-hex characters")
    return KeyEncryptionKey(version=version, key=bytes.fromhex(key_text))
