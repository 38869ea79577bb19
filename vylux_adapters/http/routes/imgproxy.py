"""``GET {IMGPROXY_PATH_PREFIX}/{signature}/{options…}/…``: imgproxy's URL dialect."""

from __future__ import annotations

import functools
from urllib.parse import quote

from starlette.requests import Request
from starlette.types import Scope

from vylux_adapters.http.responses import NOSNIFF_HEADER, BytesResponse, is_head
from vylux_adapters.http.routes.endpoint import ImageAnswer
from vylux_adapters.http.routes.images import CONTENT_TYPES, etag_matches, header_values
from vylux_adapters.http.routing import REST_PARAM
from vylux_core.imgproxy.service import ImgproxyAnswer, ImgproxyService
from vylux_core.services import Document

_VARY = (b"vary", b"Accept")


class ImgproxyRoute:
    """``{prefix}/{signature}/{options…}/…``: renditions (and info answers, for a
    path the info routes below do not match)."""

    def __init__(self, *, imgproxy: ImgproxyService) -> None:
        self._imgproxy = imgproxy

    async def __call__(self, request: Request) -> ImageAnswer:
        scope = request.scope
        params = request.path_params
        # Repeated Accept fields combine into one list (RFC 9110 §5.3).
        accept = ", ".join(header_values(scope["headers"], b"accept"))
        path = "/" + params[REST_PARAM]
        answer = await self._imgproxy.render(params["sig"], path, accept)
        if isinstance(answer, Document):
            return _document_answer(answer, scope)
        rendition = answer.rendition
        source = rendition.source
        headers = [(b"etag", rendition.etag.encode("ascii")), NOSNIFF_HEADER]
        if answer.vary_accept:
            headers.append(_VARY)
        if_none_match = header_values(scope["headers"], b"if-none-match")
        if if_none_match and etag_matches(if_none_match, rendition.etag):
            return ImageAnswer(BytesResponse(b"", headers=headers, status_code=304), source)
        data = rendition.data
        headers.append(CONTENT_TYPES[rendition.format])
        headers.append((b"content-length", str(len(data)).encode("ascii")))
        headers.append((b"content-disposition", _disposition(answer).encode("latin-1")))
        return ImageAnswer(BytesResponse(b"" if is_head(scope) else data, headers=headers), source)


class ImgproxyInfoRoute:
    """The info endpoint: ``{prefix}/{signature}/info/…`` (``info_signed``: the
    signature covers ``/info/…``) or imgproxy Pro's ``{prefix}/info/{signature}/…``."""

    def __init__(self, *, imgproxy: ImgproxyService, info_signed: bool) -> None:
        self._imgproxy = imgproxy
        self._signed_prefix = "/info/" if info_signed else "/"
        self._info_signed = info_signed

    async def __call__(self, request: Request) -> ImageAnswer:
        scope = request.scope
        params = request.path_params
        path = self._signed_prefix + params[REST_PARAM]
        document = await self._imgproxy.info(params["sig"], path, info_signed=self._info_signed)
        return _document_answer(document, scope)


def _document_answer(document: Document, scope: Scope) -> ImageAnswer:
    """The info endpoint's JSON, with the ETag/304 and HEAD of a rendition."""
    headers = [(b"etag", document.etag.encode("ascii")), NOSNIFF_HEADER]
    if_none_match = header_values(scope["headers"], b"if-none-match")
    if if_none_match and etag_matches(if_none_match, document.etag):
        return ImageAnswer(BytesResponse(b"", headers=headers, status_code=304), document.source)
    body = document.data
    headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    return ImageAnswer(
        BytesResponse(b"" if is_head(scope) else body, headers=headers), document.source
    )


def _disposition(answer: ImgproxyAnswer) -> str:
    return _disposition_of(
        answer.download_stem,
        answer.rendition.format.extension,
        attachment=answer.options.return_attachment,
    )


@functools.lru_cache(maxsize=4096)
def _disposition_of(stem: str, extension: str, *, attachment: bool) -> str:
    """imgproxy's ``Content-Disposition``: inline (or attachment) with the source's
    base name, or ``filename``, and the output's extension. Cached, so that cache
    hits do not escape the same name again on every request."""
    name = f"{stem}.{extension}"
    kind = "attachment" if attachment else "inline"
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
