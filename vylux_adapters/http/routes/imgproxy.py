"""``GET {IMGPROXY_PATH_PREFIX}/{signature}/{options…}/…``: imgproxy's URL dialect."""

from __future__ import annotations

import functools
from urllib.parse import quote

from starlette.types import Scope

from vylux_adapters.http.routes.endpoint import ImageAnswer
from vylux_adapters.http.routes.images import CONTENT_TYPES, header_values, immutable_answer
from vylux_adapters.http.routing import REST_PARAM
from vylux_core.imgproxy.service import ImgproxyService
from vylux_core.services import Document

_VARY = (b"vary", b"Accept")
_JSON = ((b"content-type", b"application/json"),)


class ImgproxyRoute:
    """``{prefix}/{signature}/{options…}/…``: renditions, and info answers for the
    signed ``{prefix}/{signature}/info/…`` paths."""

    def __init__(self, *, imgproxy: ImgproxyService) -> None:
        self._imgproxy = imgproxy

    async def __call__(self, scope: Scope) -> ImageAnswer:
        params = scope["path_params"]
        # Repeated Accept fields combine into one list (RFC 9110 §5.3).
        accept = ", ".join(header_values(scope["headers"], b"accept"))
        path = "/" + params[REST_PARAM]
        answer = await self._imgproxy.render(params["sig"], path, accept)
        if isinstance(answer, Document):
            return _document_answer(answer, scope)
        rendition = answer.rendition
        disposition = _disposition_header(
            answer.download_stem, rendition.format.extension, answer.options.return_attachment
        )
        return immutable_answer(
            scope,
            etag=rendition.etag,
            body=rendition.data,
            source=rendition.source,
            content=(CONTENT_TYPES[rendition.format], disposition),
            vary=(_VARY,) if answer.vary_accept else (),
        )


class ImgproxyInfoRoute:
    """imgproxy Pro's info URL, ``{prefix}/info/{signature}/{options…}/…``, where the
    signature covers the path after it (what imgproxy's client libraries build)."""

    def __init__(self, *, imgproxy: ImgproxyService) -> None:
        self._imgproxy = imgproxy

    async def __call__(self, scope: Scope) -> ImageAnswer:
        params = scope["path_params"]
        document = await self._imgproxy.info(params["sig"], "/" + params[REST_PARAM])
        return _document_answer(document, scope)


def _document_answer(document: Document, scope: Scope) -> ImageAnswer:
    """The info endpoint's JSON, with the ETag/304 and HEAD of a rendition."""
    return immutable_answer(
        scope, etag=document.etag, body=document.data, source=document.source, content=_JSON
    )


@functools.lru_cache(maxsize=4096)
def _disposition_header(stem: str, extension: str, attachment: bool) -> tuple[bytes, bytes]:
    """imgproxy's ``Content-Disposition``: inline (or attachment) with the source's
    base name, or ``filename``, and the output's extension: imgproxy's exact value
    for a printable ASCII name without quotes or backslashes. Any other name is also
    given as ``filename*`` (RFC 6266), with an ASCII stand-in as ``filename`` for
    clients that lack it. Cached, so that cache hits do not build and encode the same
    value again."""
    name = f"{stem}.{extension}"
    kind = "attachment" if attachment else "inline"
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return (b"content-disposition", value.encode("latin-1"))
