"""``/img``: signed renditions, conditional requests, HEAD, raw paths, I1–I4 and I26."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from starlette.middleware import Middleware
from starlette.types import Scope

from tests.e2e.http_world import (
    HMAC_SECRET,
    IMMUTABLE,
    SOURCE_ERRORS,
    World,
    check_media_purge_removes_tracked_renditions,
    memory_world,
    source_error,
)
from tests.e2e.test_http_routing import ScopeRecorder
from vylux_adapters.http.handoff import ImageError
from vylux_adapters.memory import fake_image
from vylux_core.services import RenditionSource

SIG = "0" * 64


async def _wait_for_cache_object(world: World) -> list[str]:
    await world.write_behind.drain(5.0)
    return [key async for key in world.media.list("cache/")]


async def test_i1_renders_webp_and_stores_a_cache_copy(world: World) -> None:
    await world.put_source("sample image.png", fake_image(2, 2))
    path = world.img_path("w64", "sample image.png", "webp", encoded="sample%20image.png")
    response = await world.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.content.startswith(fake_image(64, 64))
    assert response.headers["cache-control"] == IMMUTABLE
    assert "vary" not in response.headers  # D43: no Accept negotiation, no Vary
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-length"] == str(len(response.content))
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:16] + '"'
    assert response.headers["etag"] == etag
    cached = await _wait_for_cache_object(world)
    assert len(cached) == 1
    assert cached[0].endswith(".webp")


@pytest.mark.parametrize(("source", "status", "message"), SOURCE_ERRORS)
async def test_i2_i3_source_errors(
    world: World, source: bytes | None, status: int, message: str
) -> None:
    response = await source_error(world, source, status, message)
    assert "cache-control" not in response.headers
    assert "vary" not in response.headers


async def test_i4_unsupported_format_even_with_a_valid_signature(world: World) -> None:
    await world.put_source("uploads/x.png", fake_image(2, 2))
    message = b"w64/uploads/x.png.bmp"
    sig = hmac.new(HMAC_SECRET.encode(), message, hashlib.sha256).hexdigest()
    response = await world.client.get(f"/img/{sig}/w64/uploads%2Fx.png.bmp")
    assert (response.status_code, response.json()) == (
        400,
        {"message": "unsupported output format"},
    )
    assert "x-fallback" not in response.headers


async def test_source_storage_outage_is_502(world: World) -> None:
    world.outages.down.add("source")
    response = await world.client.get(world.img_path("w64", "uploads/x.png", "webp"))
    assert (response.status_code, response.json()) == (
        502,
        {"message": "source storage unavailable"},
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param(
            f"/img/{SIG}/q0/a.png.webp",
            'bad options: invalid quality: "0" (must be 1-100)',
            id="q0-before-signature",
        ),
        pytest.param(
            f"/img/{SIG}/x100/a.png.webp",
            'bad options: unknown option prefix: "x"',
            id="unknown-option",
        ),
        pytest.param(
            f"/img/{SIG}/w100__h5/a.png.webp",
            'bad options: invalid option token: ""',
            id="empty-token",
        ),
        pytest.param(
            f"/img/{SIG}/w9000/a.png.webp",
            'bad options: width exceeds 8192: "9000"',
            id="width-cap",
        ),
        pytest.param(f"/img/{SIG}/w10/", "missing source path", id="missing-source-path"),
        pytest.param(f"/img/{SIG}/w10/a.tiff", "unsupported output format", id="tiff"),
        pytest.param(f"/img/{SIG}/w10/a", "unsupported output format", id="no-extension"),
        pytest.param(f"/img/{SIG}/w10/a%zz.webp", "invalid source encoding", id="bad-escape"),
        pytest.param(f"/img/{SIG}/w10/.webp", "missing source key", id="empty-key"),
    ],
)
async def test_bad_requests_are_400_before_the_signature(
    world: World, path: str, message: str
) -> None:
    response = await world.client.get(path)
    assert (response.status_code, response.json()) == (400, {"message": message})
    assert "cache-control" not in response.headers


@pytest.mark.parametrize("sign", [True, False], ids=["signed", "unsigned"])
async def test_box_over_the_result_budget_is_400_before_the_signature(
    world: World, sign: bool
) -> None:
    """A 281-byte 4x4 PNG asked for 8192x8192 cost 11-17 s of a core: refused from the
    options alone, so the source is neither read nor decoded."""
    await world.put_source("a.png", fake_image(4, 4))
    path = (
        world.img_path("w8192_h8192", "a.png", "webp")
        if sign
        else f"/img/{SIG}/w8192_h8192/a.png.webp"
    )

    response = await world.client.get(path)

    message = "bad options: 8192x8192 is 67108864 pixels, more than the result limit of 40000000"
    assert (response.status_code, response.json()) == (400, {"message": message})
    assert "cache-control" not in response.headers
    assert [key async for key in world.media.list("cache/")] == []


@pytest.mark.parametrize(
    "sig",
    [
        pytest.param(SIG, id="wrong"),
        pytest.param("", id="empty"),
        pytest.param("UPPER", id="upper-case-of-valid"),
    ],
)
async def test_signature_mismatch_is_403(world: World, sig: str) -> None:
    await world.put_source("a.png", fake_image(2, 2))
    if sig == "UPPER":
        sig = world.img_path("w10", "a.png", "webp").split("/")[2].upper()
    response = await world.client.get(f"/img/{sig}/w10/a.png.webp")
    assert (response.status_code, response.json()) == (403, {"message": "invalid signature"})
    assert "cache-control" not in response.headers


async def test_original_signature_does_not_unlock_img(world: World) -> None:
    """Spec §4.2's domain gap is closed: empty options are refused (D8)."""
    await world.put_source("photo.png.webp", b"x")
    original_sig = world.original_path("photo.png.webp").split("/")[2]
    response = await world.client.get(f"/img/{original_sig}//photo.png.webp")
    assert response.status_code == 400


async def test_slash_encoded_or_not_is_the_same_key(world: World) -> None:
    await world.put_source("uploads/a/b.png", fake_image(4, 4))
    encoded = await world.client.get(
        world.img_path("w2", "uploads/a/b.png", "webp", encoded="uploads%2Fa%2Fb.png")
    )
    plain = await world.client.get(
        world.img_path("w2", "uploads/a/b.png", "webp", encoded="uploads/a/b.png")
    )
    assert (encoded.status_code, plain.status_code) == (200, 200)
    assert encoded.content == plain.content


async def test_percent_in_a_key_is_decoded_once(world: World) -> None:
    await world.put_source("100%.png", fake_image(4, 4))
    response = await world.client.get(world.img_path("w2", "100%.png", "png", encoded="100%25.png"))
    assert (response.status_code, response.headers["content-type"]) == (200, "image/png")


async def test_image_signature_vector_of_the_spec(world: World) -> None:
    await world.put_source("uploads/My Image.png", fake_image(600, 400))
    path = world.img_path("w300_h200", "uploads/My Image.png", "jpg")
    assert path.split("/")[2] == (
        "4fccac69e25e6af47174cc2d0be0cba65dc78ee3215f77103e6eeab040881f0c"
    )
    vector = path.split("/")[2]
    response = await world.client.get(f"/img/{vector}/h200_w300/uploads%2FMy%20Image.png.JPEG")
    assert (response.status_code, response.headers["content-type"]) == (200, "image/jpeg")
    assert response.content.startswith(fake_image(300, 200))


async def test_jpeg_alias_and_canonical_options_verify(world: World) -> None:
    await world.put_source("a.png", fake_image(8, 8))
    sig = world.img_path("w4_h2", "a.png", "jpg").split("/")[2]
    response = await world.client.get(f"/img/{sig}/h2_w4/a.png.JPEG")
    assert (response.status_code, response.headers["content-type"]) == (200, "image/jpeg")


# --- conditional requests and HEAD -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "status"),
    [
        pytest.param("{etag}", 304, id="exact"),
        pytest.param('"nope", {etag}', 304, id="list"),
        pytest.param("W/{etag}", 304, id="weak"),
        pytest.param("*", 304, id="star"),
        pytest.param('"0123456789abcdef"', 200, id="other"),
        pytest.param("", 200, id="empty"),
    ],
)
async def test_if_none_match(world: World, header: str, status: int) -> None:
    await world.put_source("a.png", fake_image(8, 8))
    path = world.img_path("w4", "a.png", "webp")
    etag = (await world.client.get(path)).headers["etag"]
    response = await world.client.get(path, headers={"If-None-Match": header.format(etag=etag)})
    assert response.status_code == status
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == IMMUTABLE
    if status == 304:
        assert response.content == b""


async def test_head_has_the_get_headers_and_no_body(world: World) -> None:
    await world.put_source("a.png", fake_image(8, 8))
    path = world.img_path("w4", "a.png", "webp")
    get = await world.client.get(path)
    head = await world.client.head(path)
    assert (head.status_code, head.content) == (200, b"")
    for name in ("content-type", "content-length", "etag", "cache-control"):
        assert head.headers[name] == get.headers[name]
    not_modified = await world.client.head(path, headers={"If-None-Match": get.headers["etag"]})
    assert not_modified.status_code == 304


async def test_head_error_has_no_body(world: World) -> None:
    response = await world.client.head(f"/img/{SIG}/w10/a.png.webp")
    assert (response.status_code, response.content) == (403, b"")


# --- the hand-off to the metrics middleware ------------------------------------------------------


async def test_image_outcome_is_left_in_the_scope() -> None:
    scopes: list[Scope] = []
    async with memory_world(extra_middleware=[Middleware(ScopeRecorder, scopes=scopes)]) as world:
        await world.put_source("a.png", fake_image(8, 8))
        await world.put_source("bad.png", b"junk")
        path = world.img_path("w4", "a.png", "webp")
        await world.client.get(path)  # processed
        await world.client.get(path)  # memory
        # The stem of the stored cache/ copy is the processing hash, the LRU's key.
        (stored,) = await _wait_for_cache_object(world)
        world.renditions.discard(stored.removeprefix("cache/").rsplit(".", 1)[0])
        await world.client.get(path)  # storage
        await world.client.get(world.img_path("w4", "missing.png", "webp"))
        await world.client.get(world.img_path("w4", "bad.png", "webp"))
        await world.client.get(f"/img/{SIG}/w4/a.png.webp")  # 403: no image metrics
        world.outages.down.add("source")
        await world.client.get(world.img_path("w4", "other.png", "webp"))
    assert [scope.get("vylux.image") for scope in scopes] == [
        RenditionSource.PROCESSED,
        RenditionSource.MEMORY,
        RenditionSource.STORAGE,
        ImageError("source_fetch", 404),
        ImageError("process", 422),
        None,
        ImageError("source_fetch", 502),
    ]


# --- I26: purging tracked renditions -------------------------------------------------------------


async def test_i26_delete_media_removes_tracked_image_cache(world: World) -> None:
    await check_media_purge_removes_tracked_renditions(
        world, fake_image(2, 2), _wait_for_cache_object
    )
