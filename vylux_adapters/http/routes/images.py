"""``GET /img/{sig}/{opts}/{source}.{format}``: signed renditions."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Scope

from vylux_adapters.http.middleware.cache_headers import IMMUTABLE_HEADER
from vylux_adapters.http.responses import NOSNIFF_HEADER, BytesResponse, is_head
from vylux_adapters.http.routes.endpoint import ImageAnswer
from vylux_adapters.http.routing import REST_PARAM
from vylux_core.images.options import ImageFormat
from vylux_core.services import ImageService, RenditionSource

CONTENT_TYPES = {fmt: (b"content-type", fmt.mime_type.encode("ascii")) for fmt in ImageFormat}


class ImageRoute:
    def __init__(self, *, images: ImageService) -> None:
        self._images = images

    async def __call__(self, scope: Scope) -> ImageAnswer:
        params = scope["path_params"]
        rendition = await self._images.render(params["sig"], params["opts"], params[REST_PARAM])
        return immutable_answer(
            scope,
            etag=rendition.etag,
            body=rendition.data,
            source=rendition.source,
            content=(CONTENT_TYPES[rendition.format],),
        )


def immutable_answer(
    scope: Scope,
    *,
    etag: str,
    body: bytes,
    source: RenditionSource,
    content: Sequence[tuple[bytes, bytes]],
    vary: Sequence[tuple[bytes, bytes]] = (),
) -> ImageAnswer:
    """The answer of bytes that never change under their URL (renditions, info JSON).

    ETag, ``nosniff``, a year's ``Cache-Control`` and ``vary`` go on 200 and 304 alike;
    ``content`` (type, disposition) and ``Content-Length`` on the 200 only. A matching
    ``If-None-Match`` is checked once the bytes exist, since the ETag is their hash.
    HEAD gets the 200's headers, Content-Length included, and no body.
    """
    headers = [(b"etag", etag.encode("ascii")), NOSNIFF_HEADER, IMMUTABLE_HEADER, *vary]
    if_none_match = header_values(scope["headers"], b"if-none-match")
    if if_none_match and etag_matches(if_none_match, etag):
        return ImageAnswer(BytesResponse(b"", headers=headers, status_code=304), source)
    headers += content
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    return ImageAnswer(BytesResponse(b"" if is_head(scope) else body, headers=headers), source)


def header_values(headers: list[tuple[bytes, bytes]], wanted: bytes) -> list[str]:
    """Every value of the request header ``wanted`` (lower-case, as ASGI names them)."""
    # A loop, not a comprehension: no function frame per request for a header that
    # is usually absent.
    found: list[str] = []
    for name, value in headers:
        if name == wanted:
            found.append(value.decode("latin-1"))
    return found


def etag_matches(if_none_match: list[str], etag: str) -> bool:
    """RFC 9110 §13.1.2: a list of tags or ``*``, compared weakly (``W/`` ignored).

    A CDN that adds a second tag or weakens ours still gets its 304 (D28).
    """
    ours = etag.removeprefix("W/")
    for header in if_none_match:
        for candidate in header.split(","):
            tag = candidate.strip()
            if tag == "*" or (tag and tag.removeprefix("W/") == ours):
                return True
    return False
