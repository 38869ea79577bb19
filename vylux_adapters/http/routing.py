"""Echo-style routing on the raw request path (spec §2.2, §2.3, §3).

Starlette routes on the decoded ``scope["path"]``, where ``%2F`` and ``/`` look the
same and a key like ``100%25.png`` would be decoded twice by the time a handler
decodes it. This router matches ``scope["raw_path"]`` instead and hands the route
its parameters still percent-encoded; the core decodes keys exactly once.

Templates use Echo's syntax: ``:name`` is one path segment and may be empty (except
as the last element), ``*`` is the rest of the path and may be empty. A ``:name``
that ends its template swallows the rest of the path, slashes included, unless
another template continues after it (``/api/jobs/:id`` vs ``/api/jobs/:id/retry``),
which is how Echo's tree behaves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from attrs import frozen
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.errors import method_not_allowed, not_found
from vylux_adapters.http.scope_keys import PATH_PARAMS, ROUTE, UNMATCHED

REST = "*"
"""The template element for the rest of the path."""
REST_PARAM = "rest"
"""The path parameter that ``*`` fills: an identifier, so that it can also name its
regex group, and a match's ``groupdict()`` is the parameters as they are."""
# Allow header order: OPTIONS first, as Echo writes it, then the rest alphabetically.
_METHOD_ORDER = ("CONNECT", "DELETE", "GET", "HEAD", "PATCH", "POST", "PUT", "TRACE")


@frozen(kw_only=True)
class Route:
    """One template and the ASGI app serving each of its methods.

    ``head`` serves HEAD with the GET app (the scope still says HEAD, so the route
    sends headers only). An ``OPTIONS`` app replaces the router's own ``204`` answer
    and is not listed among the allowed methods. The template doubles as the metrics
    ``route`` label.
    """

    template: str
    methods: Mapping[str, ASGIApp]
    head: bool = False

    @property
    def allowed(self) -> tuple[str, ...]:
        names = set(self.methods)
        if self.head and "GET" in names:
            names.add("HEAD")
        return tuple(method for method in _METHOD_ORDER if method in names)

    def app_for(self, method: str) -> ASGIApp | None:
        if method == "HEAD" and self.head:
            return self.methods.get("GET")
        return self.methods.get(method)


class RawPathRouter:
    """Matches the raw path against the routes in order; answers 404, 405 and OPTIONS
    itself and leaves the template in ``scope["vylux.route"]`` for the metrics."""

    def __init__(self, *, routes: Sequence[Route]) -> None:
        templates = [route.template for route in routes]
        self._routes = [_Candidate(route, _compile(route.template, templates)) for route in routes]
        # Only routes whose first segment could match are tried, still in table order:
        # trying every pattern was a noticeable part of serving a cached rendition.
        firsts = {_first_segment(template) for template in templates}
        self._by_first = {
            first: [c for c in self._routes if _first_segment(c.route.template) in (first, None)]
            for first in firsts
            if first is not None
        }
        self._param_first = [c for c in self._routes if _first_segment(c.route.template) is None]

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(candidate.route for candidate in self._routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._match(raw_path_of(scope))
        if found is None:
            scope[ROUTE] = UNMATCHED
            await not_found(scope)(scope, receive, send)
            return
        candidate, params = found
        route = candidate.route
        scope[ROUTE] = route.template
        scope[PATH_PARAMS] = params
        method = scope["method"]
        app = candidate.apps.get(method)
        if app is not None:
            await app(scope, receive, send)
            return
        allow = ", ".join(("OPTIONS", *route.allowed))
        if method == "OPTIONS":
            response = Response(status_code=204, headers={"Allow": allow})
        else:
            response = method_not_allowed(scope, allow)
        await response(scope, receive, send)

    def _match(self, path: str | None) -> tuple[_Candidate, dict[str, str]] | None:
        if path is None:
            return None
        candidates = self._by_first.get(path.split("/", 2)[1] if "/" in path else "")
        for candidate in self._param_first if candidates is None else candidates:
            match = candidate.pattern.fullmatch(path)
            if match is not None:
                return candidate, match.groupdict()
        return None


class _Candidate:
    """A route with its compiled template and the app of each method it serves (HEAD
    included)."""

    __slots__ = ("apps", "pattern", "route")

    def __init__(self, route: Route, pattern: re.Pattern[str]) -> None:
        self.route = route
        self.pattern = pattern
        self.apps = {
            method: app for method in route.allowed if (app := route.app_for(method)) is not None
        }
        # A route may answer OPTIONS itself (a CORS preflight); otherwise the router does.
        preflight = route.methods.get("OPTIONS")
        if preflight is not None:
            self.apps["OPTIONS"] = preflight


def raw_path_of(scope: Scope) -> str | None:
    """The path exactly as the client sent it; None when it is not UTF-8 (no route
    can match bytes that are not text)."""
    raw = scope.get("raw_path")
    if not raw:
        # ASGI makes raw_path optional; re-encoding the decoded path is the best guess.
        raw = quote(scope["path"], safe="/:@!$&'()*+,;=~").encode("ascii")
    try:
        return bytes(raw).split(b"?", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _first_segment(template: str) -> str | None:
    """The literal first path segment of ``template``; None when it is a parameter."""
    first = template.split("/", 2)[1] if "/" in template else template
    return None if first.startswith(":") or first == REST else first


def _compile(template: str, templates: Sequence[str]) -> re.Pattern[str]:
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
