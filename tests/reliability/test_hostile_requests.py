"""Hostile requests against the app on the in-memory world (tests/e2e/http_world.py):
every one gets its documented 4xx, never a 5xx, and costs the server little.

* ``w``/``h`` beyond the 8192 cap and out-of-range numbers: 400 before the signature;
* ``%``-keys: double encoding is decoded once, ``%00``/raw NUL, overlong and surrogate
  UTF-8, truncated escapes: 400 on every route that takes a key;
* JSON: lone surrogate escapes (a 500 before the fix in strict_json.py) and 10 MB
  bodies, declared or chunked: 413, reading at most the 64 KiB cap;
* ``callback_url`` naming loopback, link-local (cloud metadata), private and reserved
  addresses, in every spelling a resolver accepts, or a DNS name resolving there;
* token spraying on ``/api/key``: the per-address limiter holds whatever the tokens
  and ``X-Forwarded-For`` say, and other clients keep their access;
* a signature replayed on another route (``/original`` ↔ ``/thumb`` ↔ ``/img``): 403
  or 400, while each works on its own route.

Table cases already in tests/e2e (test_http_images.py, test_http_delivery.py,
test_http_jobs.py, test_http_callbacks.py, test_http_keys.py) are not repeated here;
docs/reliability.md lists both.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from ipaddress import ip_address
from typing import Any

import httpx
import pytest
from starlette.types import Message

from tests.e2e.http_world import API, World, memory_world
from tests.support.rss import RssGrowth
from vylux_adapters.memory import fake_image
from vylux_adapters.webhooks.destination import check_callback_destination
from vylux_core.errors import UnsafeDestination
from vylux_core.images.options import ImageFormat, ImageOptions
from vylux_core.webhooks.callback_policy import is_public_address

pytestmark = [pytest.mark.reliability]

BAD_SIG = "0" * 64
THUMBNAIL = {"type": "image:thumbnail", "hash": "abcdef1234567890", "source": "uploads/a.png"}


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with memory_world() as built:
        yield built


# --- option caps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opts", "detail"),
    [
        pytest.param("h8193", 'height exceeds 8192: "8193"', id="height-cap"),
        pytest.param("w+8193", 'width exceeds 8192: "+8193"', id="signed-over-cap"),
        pytest.param("w0008193", 'width exceeds 8192: "0008193"', id="zero-padded-over-cap"),
        pytest.param(
            "w8192_h9223372036854775807",
            'height exceeds 8192: "9223372036854775807"',
            id="int64-max",
        ),
        pytest.param(
            "h9223372036854775808", 'invalid height: "9223372036854775808"', id="int64-overflow"
        ),
        pytest.param("w" + "9" * 5000, f'invalid width: "{"9" * 5000}"', id="5000-digits"),
        pytest.param("w-1", 'invalid width: "-1"', id="negative"),
        pytest.param("q101", 'invalid quality: "101" (must be 1-100)', id="quality-high"),
        pytest.param("w１０", 'invalid width: "１０"', id="fullwidth-digits"),
    ],
)
async def test_dimensions_beyond_the_caps_are_400_before_the_signature(
    world: World, opts: str, detail: str
) -> None:
    await world.put_source("a.png", fake_image(2, 2))
    raw = f"/img/{BAD_SIG}/{opts}/a.png.webp".encode()  # the segment is not percent-decoded
    response = await world.raw("GET", raw)
    assert (response.status, json.loads(response.body)) == (
        400,
        {"message": f"bad options: {detail}"},
    )


# --- percent-encoded and NUL keys --------------------------------------------------------------

ENCODING = "invalid object key encoding: "


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        pytest.param(b"a%00b.png", ENCODING + "NUL byte in decoded text", id="escaped-nul"),
        pytest.param(b"a\x00b.png", ENCODING + "NUL byte in decoded text", id="raw-nul"),
        pytest.param(b"a%2500.png", None, id="double-encoded-nul-is-literal"),
        pytest.param(b"a%C0%AFb.png", ENCODING + "invalid UTF-8 in decoded text", id="overlong"),
        pytest.param(b"a%ED%A0%80.png", ENCODING + "invalid UTF-8 in decoded text", id="surrogate"),
        pytest.param(b"a%FF.png", ENCODING + "invalid UTF-8 in decoded text", id="latin1"),
        pytest.param(b"a%", ENCODING + 'invalid URL escape "%"', id="bare-percent"),
        pytest.param(b"a%4", ENCODING + 'invalid URL escape "%4"', id="truncated"),
        pytest.param(b"a%zz.png", ENCODING + 'invalid URL escape "%zz"', id="not-hex"),
    ],
)
@pytest.mark.parametrize("route", [b"original", b"thumb"])
async def test_bad_key_encodings_are_400(
    world: World, route: bytes, rest: bytes, message: str | None
) -> None:
    response = await world.raw("GET", b"/" + route + b"/" + BAD_SIG.encode() + b"/" + rest)
    if message is None:  # a well-formed key: only the signature is wrong
        assert (response.status, json.loads(response.body)) == (
            403,
            {"message": "invalid signature"},
        )
    else:
        assert (response.status, json.loads(response.body)) == (400, {"message": message})


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param(b"/img/%s/w10/a%%00.webp", "invalid source encoding", id="img-escaped-nul"),
        pytest.param(b"/img/%s/w10/a\x00.webp", "invalid source encoding", id="img-raw-nul"),
        pytest.param(b"/img/%s/w10/a%%ED%%A0%%80.webp", "invalid source encoding", id="img-utf16"),
        pytest.param(b"/stream/abcdef1234567890/a%%00.m3u8", "invalid path", id="stream-nul"),
        pytest.param(b"/stream/abcdef1234567890/a\x00.m3u8", "invalid path", id="stream-raw-nul"),
        pytest.param(
            b"/stream/abcdef1234567890/%%2e%%2e%%2fx.m3u8", "invalid path", id="stream-dots"
        ),
    ],
)
async def test_bad_image_and_stream_paths_are_400(world: World, path: bytes, message: str) -> None:
    raw = path % BAD_SIG.encode() if b"%s" in path else path.replace(b"%%", b"%")
    response = await world.raw("GET", raw)
    assert (response.status, json.loads(response.body)) == (400, {"message": message})


async def test_double_encoding_names_a_different_object(world: World) -> None:
    """``a%252Fb`` is the key ``a%2Fb``, not ``a/b``: decoded once, never twice."""
    await world.put_source("a/b.png", b"slash")
    await world.put_source("a%2Fb.png", b"literal")
    once = await world.client.get(world.original_path("a/b.png", encoded="a%2Fb.png"))
    twice = await world.client.get(world.original_path("a%2Fb.png", encoded="a%252Fb.png"))
    # The signature of one key does not open the other spelling.
    crossed = await world.client.get(
        f"/original/{world.signer.sign_original('a/b.png')}/a%252Fb.png"
    )
    assert (once.status_code, once.content) == (200, b"slash")
    assert (twice.status_code, twice.content) == (200, b"literal")
    assert crossed.status_code == 403


# --- JSON bodies ---------------------------------------------------------------------------------

SURROGATE = "invalid JSON body: lone surrogate escape in a string"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"\\ud800":1}', id="field-name"),
        pytest.param(b'{"type":"\\ud800","hash":"a","source":"s"}', id="job-type"),
        pytest.param(
            b'{"type":"image:thumbnail","hash":"a","source":"s","options":{"\\udc00":1}}',
            id="option-name",
        ),
        pytest.param(b'{"type":"image:thumbnail","hash":"a","source":"a\\ud800"}', id="source"),
        pytest.param(
            b'{"type":"image:thumbnail","hash":"a","source":"s","callback_url":"http://\\udfff/"}',
            id="callback-host",
        ),
        pytest.param(b'{"type":"image:thumbnail","hash":"a","source":["\\ud83d"]}', id="in-array"),
        pytest.param(
            b'{"type":"image:thumbnail","hash":"a","source":"\\ude00\\ud83d"}', id="swapped"
        ),
    ],
)
async def test_lone_surrogates_are_400_not_500(world: World, body: bytes) -> None:
    """Regression: echoed in a message they made JSONResponse fail (500); in ``source``
    they were accepted, though no database or object store can hold them."""
    response = await world.client.post("/api/jobs", content=body, headers=API)
    assert (response.status_code, response.json()) == (400, {"message": SURROGATE})


async def test_surrogate_pairs_are_ordinary_text(world: World) -> None:
    body = b'{"type":"image:thumbnail","hash":"a","source":"uploads/\\ud83d\\ude00.png"}'
    response = await world.client.post("/api/jobs", content=body, headers=API)
    assert response.status_code == 202
    job = await world.jobs.get(response.json()["job_id"])
    assert job.source == "uploads/\U0001f600.png"


TEN_MB = 10 << 20
CHUNK = 16 << 10


class StreamedPost:
    """One POST straight into the ASGI app, its body handed out chunk by chunk on
    demand; records how much of it the app pulled."""

    def __init__(
        self, app: Any, headers: Sequence[tuple[bytes, bytes]], size: int, *, http_version: str
    ) -> None:
        self._app = app
        self._http_version = http_version
        self._headers = list(headers)
        self._size = size
        self.pulled = 0
        self.status = 0
        self.body = b""

    def _chunks(self) -> Iterator[bytes]:
        opening = json.dumps({**THUMBNAIL, "source": ""}).encode()[:-2]
        yield opening
        sent = len(opening)
        while sent < self._size:
            yield b"x" * CHUNK
            sent += CHUNK

    async def send(self) -> None:
        chunks = self._chunks()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": self._http_version,
            "method": "POST",
            "scheme": "http",
            "path": "/api/jobs",
            "raw_path": b"/api/jobs",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"vylux.test"), *self._headers],
            "client": ("203.0.113.9", 50000),
            "server": ("vylux.test", 80),
        }
        sent: list[Message] = []

        async def receive() -> Message:
            chunk = next(chunks, None)
            if chunk is None:
                return {"type": "http.request", "body": b"", "more_body": False}
            self.pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: Message) -> None:
            sent.append(message)

        await self._app(scope, receive, send)
        self.status = sent[0]["status"]
        self.body = b"".join(m.get("body", b"") for m in sent[1:])


KEY = (b"x-api-key", API["X-API-Key"].encode())
DECLARED = (b"content-length", str(TEN_MB).encode())
CHUNKED = (b"transfer-encoding", b"chunked")
CAP_PLUS_ONE_CHUNK = (64 << 10) + CHUNK
TOO_LARGE = (413, {"message": "request body too large"})
NO_KEY = (401, {"message": "missing API key"})


@pytest.mark.parametrize(
    ("headers", "http_version", "answer", "max_pulled"),
    [
        pytest.param([DECLARED, KEY], "1.1", TOO_LARGE, 0, id="declared"),
        pytest.param([CHUNKED, KEY], "1.1", TOO_LARGE, CAP_PLUS_ONE_CHUNK, id="chunked"),
        # HTTP/2 frames bodies itself: no Content-Length and no Transfer-Encoding.
        pytest.param([KEY], "2", TOO_LARGE, CAP_PLUS_ONE_CHUNK, id="http2-unframed"),
        # The cap runs before the API key: a stranger cannot make us read either.
        pytest.param([DECLARED], "1.1", TOO_LARGE, 0, id="declared-no-key"),
        pytest.param(
            [CHUNKED], "1.1", (401, {"message": "missing API key"}), 0, id="chunked-no-key"
        ),
    ],
)
async def test_ten_megabyte_bodies_are_refused_unread(
    world: World,
    headers: list[tuple[bytes, bytes]],
    http_version: str,
    answer: tuple[int, dict[str, str]],
    max_pulled: int,
) -> None:
    post = StreamedPost(world.app, headers, TEN_MB, http_version=http_version)
    with RssGrowth() as rss:
        await post.send()
    assert (post.status, json.loads(post.body)) == answer
    # What was pulled from the client, not wall time, shows the body went unread.
    assert post.pulled <= max_pulled
    assert rss.growth < 16 << 20


@pytest.mark.parametrize(
    ("header", "status"),
    [
        pytest.param("bytes=0-" + "9" * 5000, 206, id="last-5000-digits"),
        pytest.param("bytes=-" + "9" * 5000, 206, id="suffix-5000-digits"),
        pytest.param("bytes=" + "9" * 5000 + "-", 416, id="first-5000-digits"),
        pytest.param("bytes=" + "0" * 5000 + "1-2", 206, id="zero-padded"),
    ],
)
@pytest.mark.parametrize("route", ["original", "stream"])
async def test_absurd_range_numbers_are_not_a_500(
    world: World, route: str, header: str, status: int
) -> None:
    """Regression: int() refused the 5000-digit numbers, a 500 even on unauthenticated
    ``/stream``; they mean "past any object", as a 20-digit one does."""
    await world.put_source("a.bin", b"x" * 1000)
    await world.put_media("videos/ab/abcdef1234567890/a.mp4", b"x" * 1000)
    path = world.original_path("a.bin") if route == "original" else "/stream/abcdef1234567890/a.mp4"
    response = await world.client.get(path, headers={"Range": header})
    assert response.status_code == status


# --- callback destinations -----------------------------------------------------------------------

REFUSED = "callback_url must not point to a private or loopback address"
UNRESOLVED = "callback_url host could not be resolved"


@pytest.mark.parametrize(
    "url",
    [
        # Spellings getaddrinfo turns into 127.0.0.1 (inet_aton: decimal, hex, octal).
        "http://2130706433/cb",
        "http://0x7f000001/cb",
        "http://0177.0.0.1/cb",
        "http://127.000.000.001/cb",
        "http://0/cb",
        "HTTP://LOCALHOST:8080/cb",
        # Cloud metadata, also inside IPv6.
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[::ffff:169.254.169.254]/cb",
        "http://[::ffff:a9fe:a9fe]/cb",
        "http://[fe80::a9fe:a9fe%25eth0]/cb",
        # Userinfo and fragment tricks: the host is what a client connects to.
        "http://example.com@127.0.0.1/cb",
        "http://127.0.0.1#@example.com/cb",
        "http://[0:0:0:0:0:0:0:1]:443/cb",
        "http://[::1%25lo]/cb",
        "http://[::]/cb",
        "http://10.255.255.255:8080/cb",
        "http://[::ffff:10.0.0.1]/cb",
        "https://[fc00::1]/cb",
        # Regression: IPv4-compatible IPv6 (reserved ::/8) passed as "global".
        "http://[::127.0.0.1]/cb",
        "http://[::a9fe:a9fe]/cb",
        "http://[200::1]/cb",
    ],
)
async def test_private_callback_spellings_are_refused(world: World, url: str) -> None:
    response = await world.create_job({**THUMBNAIL, "callback_url": url})
    assert (response.status_code, response.json()) == (400, {"message": REFUSED})


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1\\@example.com/cb", "http://%31%32%37.0.0.1/cb", "http://localhost./cb"],
)
async def test_unresolvable_spellings_are_refused(world: World, url: str) -> None:
    response = await world.create_job({**THUMBNAIL, "callback_url": url})
    assert (response.status_code, response.json()) == (400, {"message": UNRESOLVED})


class StubResolver:
    """DNS as an attacker runs it: any name may answer any address."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self._answers = answers

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        return self._answers[host]


@pytest.mark.parametrize(
    ("name", "addresses"),
    [
        pytest.param("loopback.attacker.test", ["127.0.0.1"], id="loopback"),
        pytest.param("metadata.attacker.test", ["169.254.169.254"], id="metadata"),
        pytest.param("intranet.attacker.test", ["10.1.2.3"], id="private"),
        pytest.param("v6.attacker.test", ["::1"], id="v6-loopback"),
        pytest.param("mapped.attacker.test", ["::ffff:127.0.0.1"], id="v4-mapped"),
        pytest.param("scoped.attacker.test", ["fe80::1%eth0"], id="link-local-scoped"),
        pytest.param("compat.attacker.test", ["::127.0.0.1"], id="v4-compatible"),
        pytest.param(
            "mixed.attacker.test", ["93.184.216.34", "127.0.0.1"], id="public-then-private"
        ),
        pytest.param("nat64.attacker.test", ["64:ff9b::a9fe:a9fe"], id="nat64-metadata"),
    ],
)
async def test_names_resolving_to_private_addresses_are_refused(
    name: str, addresses: list[str]
) -> None:
    """The resolver is injectable only at the guard (``JobRoutes(resolver=...)``;
    ``create_app`` takes none), so this runs at that seam; over HTTP ``localhost``
    above is the name the system resolves to loopback."""
    resolver = StubResolver({name: addresses})
    with pytest.raises(UnsafeDestination, match=r"is not a public address"):
        await check_callback_destination(f"https://{name}/cb", resolver=resolver)


@pytest.mark.parametrize(
    "address", ["::127.0.0.1", "::a9fe:a9fe", "::2", "200::1", "4000::1", "fe00::1"]
)
def test_reserved_ipv6_is_not_public(address: str) -> None:
    assert not is_public_address(ip_address(address))


# --- token spraying ------------------------------------------------------------------------------

MEDIA = "movie-2026-04-01"


def _client(world: World, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=world.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://vylux.test")


async def test_token_spraying_is_stopped_per_address(world: World) -> None:
    """Default limits (300/min per address before 120/min per token): 320 made-up
    tokens from one address, each its own token bucket and with a forged
    ``X-Forwarded-For`` (no proxy is trusted by default), get 300 × 403 then 429s."""
    await world.key_service.content_key_for(MEDIA)
    valid = {"Authorization": f"Bearer {world.key_token(MEDIA)}"}
    async with _client(world, "198.51.100.7") as attacker, _client(world, "192.0.2.1") as player:
        statuses = []
        for _ in range(320):
            headers = {
                "Authorization": f"Bearer {secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}",
                "X-Forwarded-For": f"203.0.113.{secrets.randbelow(256)}",
            }
            statuses.append((await attacker.get(f"/api/key/{MEDIA}", headers=headers)).status_code)
        attacker_with_valid = await attacker.get(f"/api/key/{MEDIA}", headers=valid)
        other_client = await player.get(f"/api/key/{MEDIA}", headers=valid)
        world.advance_clock(60)
        next_window = await attacker.get(f"/api/key/{MEDIA}", headers=valid)

    assert statuses == [403] * 300 + [429] * 20
    assert (attacker_with_valid.status_code, attacker_with_valid.text) == (429, "Too Many Requests")
    assert int(attacker_with_valid.headers["retry-after"]) <= 60
    assert other_client.status_code == 200
    assert next_window.status_code == 200


# --- signature replay ----------------------------------------------------------------------------


async def test_a_signature_opens_only_its_own_route(world: World) -> None:
    """The same object name in both buckets, so only the signature can refuse."""
    for key in ("photo.png", "w10/photo.png.png"):
        await world.put_source(key, fake_image(8, 8))
        await world.put_media(key, fake_image(8, 8))
    signer = world.signer
    original = signer.sign_original("photo.png")
    thumb = signer.sign_thumb("photo.png")
    img = signer.sign_image(ImageOptions(width=10), "photo.png", ImageFormat.PNG)

    async def status(path: str) -> int:
        return (await world.client.get(path)).status_code

    own = [
        await status(f"/original/{original}/photo.png"),
        await status(f"/thumb/{thumb}/photo.png"),
        await status(f"/img/{img}/w10/photo.png.png"),
    ]
    replayed = {
        "original→thumb": await status(f"/thumb/{original}/photo.png"),
        "original→img": await status(f"/img/{original}/w10/photo.png.png"),
        "original→img-empty-options": await status(f"/img/{original}//photo.png"),
        "thumb→original": await status(f"/original/{thumb}/photo.png"),
        "thumb→img": await status(f"/img/{thumb}/w10/photo.png.png"),
        "img→original": await status(f"/original/{img}/photo.png"),
        "img→thumb": await status(f"/thumb/{img}/photo.png"),
        # The /img message is "w10/photo.png.png"; an object of that very name exists.
        "img→original-as-message": await status(f"/original/{img}/w10/photo.png.png"),
        "img→thumb-as-message": await status(f"/thumb/{img}/w10%2Fphoto.png.png"),
    }
    assert own == [200, 200, 200]
    assert replayed == {
        name: 400 if name == "original→img-empty-options" else 403 for name in replayed
    }
