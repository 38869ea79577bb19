"""CORS on ``/api/key/*`` and ``/stream/*``: preflights, allowed and refused origins."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.e2e.http_world import World, client_from_environment, memory_world

H = "movie-2026-04-01"
APP = "https://app.example.com"
OTHER = "https://evil.example.net"
CORS_HEADER_PREFIX = "access-control-"
KEY_SETTINGS = {"cors_allowed_origins": (APP, "http://localhost:8080")}


def _preflight(origin: str, method: str, headers: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith(CORS_HEADER_PREFIX)}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(f"/api/key/{H}", "GET", id="raw-key"),
        pytest.param(f"/api/key/{H}/clearkey", "POST", id="clearkey-licence"),
    ],
)
async def test_key_preflight_from_an_allowed_origin(path: str, method: str) -> None:
    async with memory_world(http=KEY_SETTINGS) as world:
        response = await world.client.options(
            path, headers=_preflight(APP, method, "authorization,content-type")
        )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP
    allowed_headers = response.headers["access-control-allow-headers"].lower().split(", ")
    assert {"authorization", "content-type"} <= set(allowed_headers)
    assert method in response.headers["access-control-allow-methods"].split(", ")
    assert int(response.headers["access-control-max-age"]) > 0
    assert response.headers["vary"] == "Origin"
    assert response.headers["allow"] == f"OPTIONS, {method}"


async def test_key_answers_carry_cors_for_an_allowed_origin_errors_included() -> None:
    async with memory_world(http=KEY_SETTINGS) as world:
        content_key, _ = await world.key_service.content_key_for(H)
        token = world.key_token(H)
        kid = base64.urlsafe_b64encode(content_key.kid).rstrip(b"=").decode()
        got = await world.client.get(
            f"/api/key/{H}", headers={"Origin": APP, "Authorization": f"Bearer {token}"}
        )
        licence = await world.client.post(
            f"/api/key/{H}/clearkey",
            json={"kids": [kid]},
            headers={"Origin": APP, "Authorization": f"Bearer {token}"},
        )
        refused = await world.client.get(f"/api/key/{H}", headers={"Origin": APP})

    assert [r.status_code for r in (got, licence, refused)] == [200, 200, 401]
    for response in (got, licence, refused):
        assert response.headers["access-control-allow-origin"] == APP
        assert response.headers["vary"] == "Origin"


async def test_disallowed_origin_gets_no_cors_headers_on_key_routes() -> None:
    async with memory_world(http=KEY_SETTINGS) as world:
        await world.key_service.content_key_for(H)
        preflight = await world.client.options(
            f"/api/key/{H}", headers=_preflight(OTHER, "GET", "authorization")
        )
        answer = await world.client.get(
            f"/api/key/{H}",
            headers={"Origin": OTHER, "Authorization": f"Bearer {world.key_token(H)}"},
        )

    assert preflight.status_code == 204
    assert _cors_headers(preflight) == {}
    assert answer.status_code == 200
    assert _cors_headers(answer) == {}


async def test_key_routes_have_no_cors_by_default(world: World) -> None:
    preflight = await world.client.options(
        f"/api/key/{H}", headers=_preflight(APP, "GET", "authorization")
    )
    answer = await world.client.get(f"/api/key/{H}", headers={"Origin": APP})

    assert (preflight.status_code, preflight.headers["allow"]) == (204, "OPTIONS, GET")
    assert _cors_headers(preflight) == {}
    assert _cors_headers(answer) == {}


async def test_stream_answers_any_origin_by_default(world: World) -> None:
    await world.put_media(f"videos/{H[:2]}/{H}/master.m3u8", b"#EXTM3U\n")
    preflight = await world.client.options(
        f"/stream/{H}/master.m3u8", headers=_preflight(OTHER, "GET", "range")
    )
    partial = await world.client.get(
        f"/stream/{H}/master.m3u8", headers={"Origin": OTHER, "Range": "bytes=0-2"}
    )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "range" in preflight.headers["access-control-allow-headers"].lower().split(", ")
    assert "vary" not in preflight.headers
    assert partial.status_code == 206
    assert partial.headers["access-control-allow-origin"] == "*"
    exposed = partial.headers["access-control-expose-headers"].lower().split(", ")
    assert {"content-range", "content-length"} <= set(exposed)
    assert "vary" not in partial.headers  # one cached answer serves every origin


async def test_stream_origins_can_be_restricted() -> None:
    settings = {"stream_cors_allowed_origins": (APP,)}
    async with memory_world(http=settings) as world:
        await world.put_media(f"videos/{H[:2]}/{H}/master.m3u8", b"#EXTM3U\n")
        allowed = await world.client.get(f"/stream/{H}/master.m3u8", headers={"Origin": APP})
        other = await world.client.get(f"/stream/{H}/master.m3u8", headers={"Origin": OTHER})

    assert allowed.headers["access-control-allow-origin"] == APP
    assert _cors_headers(other) == {}
    assert other.headers["vary"] == "Origin"


async def test_settings_reach_the_app_through_bootstrap(local_env: pytest.MonkeyPatch) -> None:
    local_env.setenv("CORS_ALLOWED_ORIGINS", f"{APP}/")
    local_env.setenv("STREAM_CORS_ALLOWED_ORIGINS", "none")
    async with client_from_environment() as (_, client):
        key = await client.options(f"/api/key/{H}", headers=_preflight(APP, "GET", "authorization"))
        stream = await client.options(
            f"/stream/{H}/master.m3u8", headers=_preflight(APP, "GET", "range")
        )

    assert key.headers["access-control-allow-origin"] == APP
    assert _cors_headers(stream) == {}
