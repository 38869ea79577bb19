"""What Vylux changes in Shaka Packager's DASH manifest after packaging: stable ids, and
the ClearKey signalling (DASH-IF IOP §7.6.2.4) of an encrypted one.

The packager numbers adaptation sets (and may number representations) in the order its
threads finish, so two runs over the same encodes write different ids; a re-run after a
crash must store byte-identical objects, so the ids are renumbered in document order,
which the packager keeps stable (audio, then each video codec). This manifest refers to
none of those ids elsewhere (no switching sets, no ``associationId``).

ClearKey signalling:

Shaka Packager marks an encrypted MPD with the mp4protection descriptor (scheme ``cbcs``,
``cenc:default_KID``) and, for raw keys, a descriptor of the W3C common PSSH system
``1077efec-…`` holding that PSSH box. It cannot write the DASH-IF ClearKey descriptor (system
``e2719d58-a985-b3c9-781a-b030af78d30e``), which IOP names as ClearKey's signalling; the common
system is a PSSH format, not a key system. dash.js reads the common descriptor as ClearKey and
hands its PSSH box to the Clear Key CDM as ``keyids`` init data, which the CDM refuses; from
the DASH-IF descriptor it builds ``keyids`` from ``cenc:default_KID``, as IOP intends. So the
common descriptor is replaced by the DASH-IF one. The init segments keep their common PSSH
boxes: they are what a browser's ``encrypted`` event carries.
"""

from __future__ import annotations

import re
from typing import Final

CLEARKEY_SCHEME_ID: Final = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
COMMON_PSSH_SCHEME_ID: Final = "urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
_CLEARKEY_DESCRIPTOR: Final = (
    f'<ContentProtection schemeIdUri="{CLEARKEY_SCHEME_ID}" value="ClearKey1.0"/>'
)
# One line per self-closing descriptor, as Shaka writes it: indentation, then the element.
_MP4_PROTECTION: Final = re.compile(
    r"^([ \t]*)(<ContentProtection\b[^>\n]*"
    r'schemeIdUri="urn:mpeg:dash:mp4protection:2011"[^>\n]*/>)[ \t]*$',
    re.MULTILINE,
)
# The common-PSSH descriptor on its own lines, self-closing or with a <cenc:pssh> child.
_COMMON_PSSH: Final = re.compile(
    r'^[ \t]*<ContentProtection\b[^>]*schemeIdUri="'
    + re.escape(COMMON_PSSH_SCHEME_ID)
    + r'"[^>]*?(?:/>|>.*?</ContentProtection>)[ \t]*\n',
    re.MULTILINE | re.DOTALL,
)


_NUMBERED: Final = re.compile(r'(<(AdaptationSet|Representation)\b[^>]*?\bid=")(\d+)(")')


def number_in_document_order(mpd: str) -> str:
    """``mpd`` with its AdaptationSet ids and its Representation ids each counted 0, 1, 2 …
    in document order. Idempotent."""
    counters = {"AdaptationSet": 0, "Representation": 0}

    def renumber(match: re.Match[str]) -> str:
        element = match.group(2)
        number = counters[element]
        counters[element] = number + 1
        return f"{match.group(1)}{number}{match.group(4)}"

    return _NUMBERED.sub(renumber, mpd)


class NoProtectionDescriptor(ValueError):
    """The manifest has no mp4protection descriptor to signal ClearKey beside."""


def signal_clearkey(mpd: str) -> str:
    """``mpd`` with the DASH-IF ClearKey descriptor after every mp4protection descriptor and
    no common-PSSH descriptor.

    Idempotent. Raises :class:`NoProtectionDescriptor` when there is no mp4protection
    descriptor, i.e. the manifest is not the encrypted one the packager was asked for.
    """
    if not _MP4_PROTECTION.search(mpd):
        raise NoProtectionDescriptor("no mp4protection ContentProtection in the DASH manifest")
    if CLEARKEY_SCHEME_ID in mpd:
        return mpd
    without_common = _COMMON_PSSH.sub("", mpd)
    return _MP4_PROTECTION.sub(rf"\1\2\n\1{_CLEARKEY_DESCRIPTOR}", without_common)
