"""Starlette routes that match the raw request path with Echo's templates (D26).

Starlette's own ``Route`` matches the decoded ``scope["path"]``, where ``%2F`` and ``/``
look the same and a key like ``100%25.png`` would be decoded twice by the time a
handler decodes it. :class:`RawPathRoute` is a Starlette ``Route`` that matches
``scope["raw_path"]`` instead and hands its endpoint the parameters still
percent-encoded in ``path_params``; the core decodes keys exactly once.

Templates use Echo's syntax: ``:name`` is one path segment and may be empty (except
as the last element), ``*`` is the rest of the path and may be empty. A ``:name``
that ends its template swallows the rest of the path, slashes included, unless
another template continues after it (``/api/jobs/:id`` vs ``/api/jobs/:id/retry``),
which is how Echo's tree behaves. The first route whose template matches the path
answers, whatever the method: 405 (with ``Allow``) and ``OPTIONS`` are its answers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.errors import method_not_allowed, not_found

REST = "*"
"""The template element for the rest of the path."""
REST_PARAM = "rest"
"""The path parameter that ``*`` fills: an identifier, so that it can also name its
regex group, and a match's ``groupdict()`` is the parameters as they are."""
# Allow header order: OPTIONS first, as Echo writes it, then the rest alphabetically.
_METHOD_ORDER = ("CONNECT", "DELETE", "GET", "HEAD", "PATCH", "POST", "PUT", "TRACE")
_NO_MATCH: tuple[Match, Scope] = (Match.NONE, {})


class RawPathRoute(Route):
    """One template and the ASGI app serving each of its methods.

    ``path`` is the template, which doubles as the metrics ``route`` label.
    ``head`` serves HEAD with the GET app (the scope still says HEAD, so the route
    sends headers only). An ``OPTIONS`` app replaces the route's own ``204`` answer
    and is not listed among the allowed methods. ``templates`` are all the templates
    of the router, which decide how far a final ``:name`` reaches.
    """

    def __init__(
        self,
        template: str,
        methods: Mapping[str, ASGIApp],
        *,
        head: bool = False,
        templates: Collection[str] = (),
    ) -> None:
        self.allowed = allowed_methods(methods, head=head)
        apps = {m: methods[m] if m in methods else methods["GET"] for m in self.allowed}
        if "OPTIONS" in methods:
            apps["OPTIONS"] = methods["OPTIONS"]
        self.apps: Mapping[str, ASGIApp] = apps
        # Method dispatch, 405 and OPTIONS are this route's own (handle below), so
        # Starlette gets no methods; its ``endpoint`` is the first method's app.
        super().__init__(template, apps[self.allowed[0]], methods=None, name=template)
        self._allow = ", ".join(("OPTIONS", *self.allowed))
        self._pattern = _compile(template, templates)
        self._raw_prefix = re.split(r"[:*]", template, maxsplit=1)[0].encode("utf-8")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The router asks every route in turn: the literal prefix, checked on the raw
        # bytes first, turns most of them away at the cost of one comparison.
        raw = scope.get("raw_path")
        if raw and not raw.startswith(self._raw_prefix):
            return _NO_MATCH
        if scope["type"] != "http":
            return _NO_MATCH
        path = raw_path_of(scope)
        # The pattern starts with the literal prefix, so it checks that too.
        match = None if path is None else self._pattern.fullmatch(path)
        if match is None:
            return _NO_MATCH
        # "route" is set here too: Starlette's router adds it itself only from 1.7 on,
        # and the metrics and span names read the matched template from it.
        return Match.FULL, {
            "endpoint": self.endpoint,
            "path_params": match.groupdict(),
            "route": self,
        }

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        app = self.apps.get(method)
        if app is not None:
            await app(scope, receive, send)
            return
        if method == "OPTIONS":
            response = Response(status_code=204, headers={"Allow": self._allow})
        else:
            response = method_not_allowed(scope, self._allow)
        await response(scope, receive, send)


def allowed_methods(methods: Collection[str], *, head: bool) -> tuple[str, ...]:
    """The methods a route serves, HEAD included with ``head``, in ``Allow`` order;
    without OPTIONS, which every route answers."""
    names = set(methods) - {"OPTIONS"}
    if head and "GET" in names:
        names.add("HEAD")
    return tuple(method for method in _METHOD_ORDER if method in names)


async def answer_unmatched(scope: Scope, receive: Receive, send: Send) -> None:
    """The router's default: the JSON 404 of any unknown path; a WebSocket is closed."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1000})
        return
    await not_found(scope)(scope, receive, send)


def raw_path_of(scope: Scope) -> str | None:
    """The path exactly as the client sent it; None when it is not UTF-8 (no route
    can match bytes that are not text)."""
    raw = scope.get("raw_path")
    if not raw:
        # ASGI makes raw_path optional; re-encoding the decoded path is the best guess.
        raw = quote(scope["path"], safe="/:@!$&'()*+,;=~").encode("ascii")
    end = raw.find(b"?")  # some servers have left the query string in raw_path
    try:
        return (raw if end < 0 else raw[:end]).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _compile(template: str, templates: Collection[str]) -> re.Pattern[str]:
    parts = template.split("/")
    regex = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == REST:
            regex.append(f"(?P<{REST_PARAM}>.*)")
        elif part.startswith(":"):
            name = part[1:]
            if not last:
                regex.append(f"(?P<{name}>[^/]*)")
            elif any(other.startswith(template + "/") for other in templates):
                regex.append(f"(?P<{name}>[^/]+)")
            else:
                regex.append(f"(?P<{name}>.+)")
        else:
            regex.append(re.escape(part))
    return re.compile("/".join(regex))
