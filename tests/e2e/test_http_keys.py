"""``/api/key/{hash}``: I15–I18, delivery, plain-text errors and both rate limiters."""

from __future__ import annotations

import base64
import secrets

import pytest

from tests.e2e.http_world import API, KEY_TOKEN_SECRET, PLAIN, World, memory_world
from vylux_adapters.http import RateLimit
from vylux_core.security.key_token import mint_key_token

H = "movie-2026-04-01"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_token_vector_of_the_spec() -> None:
    token = mint_key_token(KEY_TOKEN_SECRET, H, 2000000000)
    assert token == (
        "eyJoYXNoIjoibW92aWUtMjAyNi0wNC0wMSIsImV4cCI6MjAwMDAwMDAwMH0"
        ".zwExpT2j_ilfebRA0lDIGqlOanhZm64PqgdxtNlrNLU"
    )


async def test_valid_token_gets_the_16_byte_key(world: World) -> None:
    content_key, _ = await world.key_service.content_key_for(H)
    response = await world.client.get(f"/api/key/{H}", headers=_bearer(world.key_token(H)))
    assert (response.status_code, response.content) == (200, content_key.key)
    assert len(response.content) == 16
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("headers", "status", "text"),
    [
        pytest.param({}, 401, "Unauthorized", id="i15-no-token"),
        pytest.param({"Authorization": "bearer x.y"}, 401, "Unauthorized", id="lower-case-bearer"),
        pytest.param({"Authorization": "Bearer "}, 401, "Unauthorized", id="empty-token"),
        pytest.param({"Authorization": "Basic abc"}, 401, "Unauthorized", id="other-scheme"),
        pytest.param(API, 401, "Unauthorized", id="api-key-is-no-substitute"),
        pytest.param(_bearer("invalid.token"), 403, "Forbidden", id="i16-invalid-token"),
        pytest.param(_bearer("no-dot"), 403, "Forbidden", id="malformed-token"),
    ],
)
async def test_token_problems(
    world: World, headers: dict[str, str], status: int, text: str
) -> None:
    await world.key_service.content_key_for(H)
    response = await world.client.get(f"/api/key/{H}", headers=headers)
    assert (response.status_code, response.text) == (status, text)
    assert response.headers["content-type"] == PLAIN


async def test_i17_expired_token(world: World) -> None:
    await world.key_service.content_key_for(H)
    token = world.key_token(H, expires_in=-3600)
    response = await world.client.get(f"/api/key/{H}", headers=_bearer(token))
    assert (response.status_code, response.text) == (403, "Forbidden")


async def test_token_valid_in_the_second_it_expires(world: World) -> None:
    await world.key_service.content_key_for(H)
    response = await world.client.get(
        f"/api/key/{H}", headers=_bearer(world.key_token(H, expires_in=0))
    )
    assert response.status_code == 200


async def test_i18_hash_mismatch(world: World) -> None:
    await world.key_service.content_key_for("correct-hash")
    token = world.key_token("wrong-hash")
    response = await world.client.get("/api/key/correct-hash", headers=_bearer(token))
    assert (response.status_code, response.text) == (403, "Forbidden")


async def test_no_stored_key_is_404_plain(world: World) -> None:
    response = await world.client.get(f"/api/key/{H}", headers=_bearer(world.key_token(H)))
    assert (response.status_code, response.text) == (404, "Not Found")
    assert response.headers["content-type"] == PLAIN


async def test_database_outage_is_503_plain(world: World) -> None:
    world.outages.down.add("database")
    response = await world.client.get(f"/api/key/{H}", headers=_bearer(world.key_token(H)))
    assert (response.status_code, response.text) == (503, "Service Unavailable")


# --- rate limits ------------------------------------------------------------------------------


async def test_token_limiter_answers_429_with_retry_after() -> None:
    async with memory_world(http={"key_rate_limit": RateLimit(limit=3)}) as world:
        await world.key_service.content_key_for(H)
        headers = _bearer(world.key_token(H))
        world.advance_clock(15)  # 45 s left in the window
        statuses = [
            (await world.client.get(f"/api/key/{H}", headers=headers)).status_code for _ in range(3)
        ]
        limited = await world.client.get(f"/api/key/{H}", headers=headers)
        other_token = await world.client.get(
            f"/api/key/{H}", headers=_bearer(world.key_token(H, expires_in=7200))
        )
        world.advance_clock(45)
        next_window = await world.client.get(f"/api/key/{H}", headers=headers)
    assert statuses == [200, 200, 200]
    assert (limited.status_code, limited.text) == (429, "Too Many Requests")
    assert limited.headers["content-type"] == PLAIN
    assert limited.headers["retry-after"] == "45"
    assert other_token.status_code == 200  # a token is its own bucket
    assert next_window.status_code == 200


async def test_random_tokens_cannot_bypass_the_per_ip_limit() -> None:
    settings = {"key_rate_limit": RateLimit(limit=2), "key_ip_rate_limit": RateLimit(limit=5)}
    async with memory_world(http=settings) as world:
        statuses = [
            (
                await world.client.get(
                    f"/api/key/{H}", headers=_bearer(secrets.token_urlsafe(8) + ".x")
                )
            ).status_code
            for _ in range(6)
        ]
    assert statuses == [403] * 5 + [429]


async def test_without_a_token_the_ip_is_the_identity() -> None:
    async with memory_world(http={"key_rate_limit": RateLimit(limit=2)}) as world:
        statuses = [(await world.client.get(f"/api/key/{H}")).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_trusted_proxy_count_picks_the_client_from_x_forwarded_for() -> None:
    settings = {"key_ip_rate_limit": RateLimit(limit=1), "trusted_proxy_count": 1}
    async with memory_world(http=settings) as world:

        async def from_client(forwarded: str) -> int:
            headers = {"X-Forwarded-For": forwarded, **_bearer(secrets.token_hex(4))}
            return (await world.client.get(f"/api/key/{H}", headers=headers)).status_code

        first = await from_client("203.0.113.1")
        other_client = await from_client("203.0.113.2")
        spoofed_prefix = await from_client("198.51.100.7, 203.0.113.1")
    assert (first, other_client, spoofed_prefix) == (403, 403, 429)


async def test_socket_peer_is_used_without_trusted_proxies() -> None:
    async with memory_world(http={"key_ip_rate_limit": RateLimit(limit=1)}) as world:
        first = await world.client.get(f"/api/key/{H}", headers={"X-Forwarded-For": "1.1.1.1"})
        second = await world.client.get(f"/api/key/{H}", headers={"X-Forwarded-For": "2.2.2.2"})
    assert (first.status_code, second.status_code) == (401, 429)


async def test_rate_limiter_outage_fails_open() -> None:
    async with memory_world(http={"key_ip_rate_limit": RateLimit(limit=1)}) as world:
        world.outages.down.add("rate_limiter")
        statuses = [(await world.client.get(f"/api/key/{H}")).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]


# --- W3C Clear Key licences -------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_clearkey_licence_holds_the_key_of_get(world: World) -> None:
    content_key, _ = await world.key_service.content_key_for(H)
    headers = _bearer(world.key_token(H))
    raw = await world.client.get(f"/api/key/{H}", headers=headers)
    # As Chrome's and Firefox's Clear Key CDMs send it: base64url, no padding, with "type".
    body = {"kids": [_b64url(content_key.kid)], "type": "temporary"}

    response = await world.client.post(f"/api/key/{H}/clearkey", json=body, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    licence = response.json()
    assert licence == {
        "keys": [{"kty": "oct", "k": _b64url(raw.content), "kid": _b64url(content_key.kid)}],
        "type": "temporary",
    }
    key = licence["keys"][0]
    assert "=" not in key["k"] + key["kid"]
    assert _unb64url(key["k"]) == raw.content == content_key.key


async def test_clearkey_ignores_kids_of_other_media(world: World) -> None:
    content_key, _ = await world.key_service.content_key_for(H)
    other = bytes(range(16))
    body = {"kids": [_b64url(other), _b64url(content_key.kid) + "=="]}  # padding tolerated

    response = await world.client.post(
        f"/api/key/{H}/clearkey", json=body, headers=_bearer(world.key_token(H))
    )

    assert response.status_code == 200
    assert [key["kid"] for key in response.json()["keys"]] == [_b64url(content_key.kid)]


async def test_clearkey_unknown_kid_is_404(world: World) -> None:
    await world.key_service.content_key_for(H)
    other_key, _ = await world.key_service.content_key_for("another-movie")
    # The other hash's KID under this hash's token: never served.
    body = {"kids": [_b64url(other_key.kid)], "type": "temporary"}

    response = await world.client.post(
        f"/api/key/{H}/clearkey", json=body, headers=_bearer(world.key_token(H))
    )

    assert (response.status_code, response.text) == (404, "Not Found")
    assert response.headers["content-type"] == PLAIN


@pytest.mark.parametrize(
    ("headers", "status", "text"),
    [
        pytest.param({}, 401, "Unauthorized", id="no-token"),
        pytest.param(_bearer("invalid.token"), 403, "Forbidden", id="invalid-token"),
    ],
)
async def test_clearkey_token_problems(
    world: World, headers: dict[str, str], status: int, text: str
) -> None:
    content_key, _ = await world.key_service.content_key_for(H)
    body = {"kids": [_b64url(content_key.kid)]}

    response = await world.client.post(f"/api/key/{H}/clearkey", json=body, headers=headers)

    assert (response.status_code, response.text) == (status, text)


async def test_clearkey_token_of_another_hash_is_403(world: World) -> None:
    content_key, _ = await world.key_service.content_key_for(H)
    body = {"kids": [_b64url(content_key.kid)]}

    response = await world.client.post(
        f"/api/key/{H}/clearkey", json=body, headers=_bearer(world.key_token("another-movie"))
    )

    assert (response.status_code, response.text) == (403, "Forbidden")


KID_TEXT = _b64url(bytes(16))


@pytest.mark.parametrize(
    ("body", "text"),
    [
        pytest.param(b"{", "invalid JSON body: ", id="broken-json"),
        pytest.param(b"", "invalid JSON body: empty body", id="empty"),
        pytest.param(b"[]", "invalid license request: body must be a JSON object", id="array"),
        pytest.param(
            b"{}", "invalid license request: kids must be a non-empty array", id="no-kids"
        ),
        pytest.param(
            b'{"kids": []}', "invalid license request: kids must be a non-empty", id="empty-kids"
        ),
        pytest.param(
            b'{"kids": "abc"}', "invalid license request: kids must be a non-empty", id="string"
        ),
        pytest.param(
            b'{"kids": [1]}', "invalid license request: kids[0] must be a base64url", id="number"
        ),
        pytest.param(
            b'{"kids": ["a+b/"]}',
            "invalid license request: kids[0] must be a base64url string",
            id="standard-base64",
        ),
        pytest.param(
            b'{"kids": ["AAAA"]}',
            "invalid license request: kids[0] must encode a 16-byte key id",
            id="short-kid",
        ),
        pytest.param(
            f'{{"kids": ["{KID_TEXT}"], "type": "forever"}}'.encode(),
            "invalid license request: type must be one of temporary, persistent-license",
            id="bad-type",
        ),
        pytest.param(
            f'{{"kids": ["{KID_TEXT}"], "keys": []}}'.encode(),
            'invalid license request: unknown field "keys"',
            id="unknown-field",
        ),
        pytest.param(
            f'{{"kids": {[KID_TEXT] * 17}}}'.replace("'", '"').encode(),
            "invalid license request: kids may hold at most 16 key ids",
            id="too-many-kids",
        ),
    ],
)
async def test_clearkey_malformed_request_is_400(world: World, body: bytes, text: str) -> None:
    await world.key_service.content_key_for(H)

    response = await world.client.post(
        f"/api/key/{H}/clearkey",
        content=body,
        headers={**_bearer(world.key_token(H)), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.text.startswith(text)
    assert response.headers["content-type"] == PLAIN


async def test_clearkey_shares_the_key_rate_limit() -> None:
    async with memory_world(http={"key_rate_limit": RateLimit(limit=2)}) as world:
        content_key, _ = await world.key_service.content_key_for(H)
        headers = _bearer(world.key_token(H))
        body = {"kids": [_b64url(content_key.kid)]}
        first = await world.client.get(f"/api/key/{H}", headers=headers)
        second = await world.client.post(f"/api/key/{H}/clearkey", json=body, headers=headers)
        third = await world.client.post(f"/api/key/{H}/clearkey", json=body, headers=headers)
        fourth = await world.client.get(f"/api/key/{H}", headers=headers)
    assert [first.status_code, second.status_code] == [200, 200]
    assert (third.status_code, third.text) == (429, "Too Many Requests")
    assert fourth.status_code == 429
