"""Recognising a still image from the first bytes of a file (its format signature).

Job submission reads only :data:`SNIFF_BYTES` of a video job's source, so an image sent
as a video is refused with a 400 instead of failing on the worker. Video containers
never start with these signatures; a file that matches none is left to the worker's
probe, which reads the whole header.
"""

from __future__ import annotations

from typing import Final

SNIFF_BYTES: Final = 16

# (offset, signature, type): every signature at its offset must match.
_IMAGE_SIGNATURES: Final[tuple[tuple[tuple[tuple[int, bytes], ...], str], ...]] = (
    (((0, b"\xff\xd8\xff"),), "image/jpeg"),
    (((0, b"\x89PNG\r\n\x1a\n"),), "image/png"),
    (((0, b"GIF87a"),), "image/gif"),
    (((0, b"GIF89a"),), "image/gif"),
    (((0, b"RIFF"), (8, b"WEBP")), "image/webp"),
    (((0, b"II*\x00"),), "image/tiff"),
    (((0, b"MM\x00*"),), "image/tiff"),
    # ISO-BMFF like MP4, told apart by the major brand; "avis" (an AV1 image sequence)
    # and the MP4 brands are not here.
    (((4, b"ftypavif"),), "image/avif"),
    (((4, b"ftypheic"),), "image/heic"),
    (((4, b"ftypheix"),), "image/heic"),
)


def not_a_video(image_type: str) -> str:
    """The error of a video job whose source is a still image: one wording whether the
    submission's preflight or the worker's probe finds out."""
    return f"source is not a video ({image_type})"


def not_audio(image_type: str) -> str:
    """As :func:`not_a_video`, for ``audio:transcode``."""
    return f"source is not audio ({image_type})"


def sniff_image_type(head: bytes) -> str | None:
    """The image type whose signature ``head`` (a file's first bytes) starts with."""
    for signatures, image_type in _IMAGE_SIGNATURES:
        if all(head[offset : offset + len(magic)] == magic for offset, magic in signatures):
            return image_type
    return None
