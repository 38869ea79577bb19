"""Key rotation: move stored content keys onto the current key-encryption key.

Rotating the KEK is a configuration change (a new ``vN:<hex>`` first in
ENCRYPTION_KEY, the old versions kept behind it); old rows keep unwrapping with their
own version. This module migrates the rows so the old versions can be retired later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import attrs
from attrs import frozen

from vylux_core.errors import InvalidHash, KeyUnwrapFailed
from vylux_core.ports.key_store import KeyStore, StoredKey
from vylux_core.security.key_ring import AadScheme, KeyRing

DEFAULT_BATCH = 100
# Counting walks the same pages as a rewrap does; bigger pages mean fewer round trips.
_COUNT_PAGE = 1000


@frozen
class RewrapBacklog:
    """Keys still to migrate, by what they are wrapped with (``v1``, ``v1/legacy-aad``)."""

    total: int
    by_wrapping: dict[str, int]


@frozen(kw_only=True)
class RewrapFailure:
    media_hash: str
    error: str


@frozen(kw_only=True)
class RewrapReport:
    """Running totals of one rewrap pass; ``last_hash`` is where a page ended."""

    rewrapped: int = 0
    # Changed by someone else between read and write (another rewrap, a purge): left
    # alone, and a later run picks it up if it still needs migrating.
    conflicts: int = 0
    failures: tuple[RewrapFailure, ...] = ()
    last_hash: str = ""

    @property
    def seen(self) -> int:
        return self.rewrapped + self.conflicts + len(self.failures)


def describe_wrapping(key: StoredKey) -> str:
    """``v1``, or ``v1/legacy-aad`` for rows whose AAD lacks the hash (D16)."""
    wrapped = key.wrapped
    if wrapped.aad_scheme is AadScheme.VERSION_ONLY:
        return f"{wrapped.kek_version}/legacy-aad"
    return wrapped.kek_version


async def rewrap_backlog(keys: KeyStore, current_version: str) -> RewrapBacklog:
    """How many stored keys are not yet wrapped with ``current_version`` (and the
    hash-binding AAD), grouped by their present wrapping."""
    counts: Counter[str] = Counter()
    after = ""
    while page := await keys.list_for_rewrap(current_version, after, _COUNT_PAGE):
        counts.update(describe_wrapping(key) for key in page)
        after = page[-1].media_hash
    return RewrapBacklog(total=sum(counts.values()), by_wrapping=dict(sorted(counts.items())))


async def rewrap_all(
    keys: KeyStore,
    ring: KeyRing,
    *,
    batch: int = DEFAULT_BATCH,
    on_batch: Callable[[RewrapReport], None] | None = None,
) -> RewrapReport:
    """Rewrap every key that is not current, ``batch`` keys per page, in hash order.

    Safe to run beside live servers and to interrupt: each row is swapped with a
    compare-and-set (a key re-stored meanwhile is not overwritten), and a new run only
    lists rows that still need it. A row that cannot be unwrapped (its version is no
    longer configured, or it is corrupt) is reported and skipped, never changed.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = RewrapReport()
    # Paging by hash rather than re-reading from the start: failed rows stay behind
    # the cursor instead of being listed again forever.
    while page := await keys.list_for_rewrap(ring.current_version, report.last_hash, batch):
        report = await _rewrap_page(keys, ring, page, report)
        if on_batch is not None:
            on_batch(report)
    return report


async def _rewrap_page(
    keys: KeyStore, ring: KeyRing, page: list[StoredKey], report: RewrapReport
) -> RewrapReport:
    rewrapped, conflicts, failures = report.rewrapped, report.conflicts, list(report.failures)
    for key in page:
        try:
            fresh = ring.rewrap(key.wrapped)
        except (KeyUnwrapFailed, InvalidHash) as error:
            failures.append(RewrapFailure(media_hash=key.media_hash, error=str(error)))
            continue
        if await keys.replace_wrapping(key.media_hash, key.wrapped, fresh):
            rewrapped += 1
        else:
            conflicts += 1
    return attrs.evolve(
        report,
        rewrapped=rewrapped,
        conflicts=conflicts,
        failures=tuple(failures),
        last_hash=page[-1].media_hash,
    )
