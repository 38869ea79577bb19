"""Single byte ranges of ``Range: bytes=…`` (RFC 9110 §14), for streamed deliveries."""

from __future__ import annotations

import re

from attrs import frozen

from vylux_core.ports.object_store import ByteRange

# ASCII digits only: \d would also take other scripts' digits, which int() reads.
_SPEC = re.compile(r"bytes=([0-9]*)-([0-9]*)")
# Past the end of any object; larger numbers mean the same (and keep their order, so
# no range turns backwards). int() would refuse one of more than 4300 digits: a 500.
_FAR_POSITION = 2**63 - 1
_FAR_DIGITS = len(str(_FAR_POSITION))


@frozen
class RangeRequest:
    """``first-last``, ``first-`` (``last`` None) or a suffix ``-n`` (``first`` None)."""

    first: int | None
    last: int | None

    @property
    def is_suffix(self) -> bool:
        return self.first is None


def parse_range(header: str | None, if_range: str | None = None) -> RangeRequest | None:
    """The requested range, or None to send the whole object.

    The whole object is also the answer to what RFC 9110 lets a server ignore: a
    malformed header, another unit, several ranges (we do not send multipart), and
    ``If-Range`` (these responses carry no validator it could match).
    """
    if header is None or if_range is not None:
        return None
    match = _SPEC.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    first = _position(first_text) if first_text else None
    last = _position(last_text) if last_text else None
    if first is not None and last is not None and last < first:
        return None
    return RangeRequest(first, last)


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    if len(significant) > _FAR_DIGITS:
        return _FAR_POSITION
    return min(int(significant or "0"), _FAR_POSITION)


def resolve(request: RangeRequest, size: int) -> ByteRange | None:
    """The concrete range within an object of ``size`` bytes; None if unsatisfiable."""
    if request.first is None:
        suffix = request.last or 0
        if suffix == 0 or size == 0:
            return None
        return ByteRange(max(0, size - suffix), size - 1)
    if request.first >= size:
        return None
    last = size - 1 if request.last is None else min(request.last, size - 1)
    return ByteRange(request.first, last)


def content_range(byte_range: ByteRange, size: int) -> str:
    end = size - 1 if byte_range.end is None else min(byte_range.end, size - 1)
    return f"bytes {byte_range.start}-{end}/{size}"


def range_length(byte_range: ByteRange, size: int) -> int:
    end = size - 1 if byte_range.end is None else min(byte_range.end, size - 1)
    return end - byte_range.start + 1
