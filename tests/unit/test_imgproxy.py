"""imgproxy's dialect in the core: signature, option grammar, presets, negotiation,
geometry; and its configuration (embedded secrets, server profile)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vylux_cli.config import ConfigError, load_config
from vylux_cli.embedded_secrets import with_embedded_secrets
from vylux_core.errors import InvalidImageOptions, InvalidSignature
from vylux_core.images.geometry import Size
from vylux_core.images.options import ImageFormat
from vylux_core.imgproxy.geometry import plan_geometry, position
from vylux_core.imgproxy.options import (
    OPTION_NAMES,
    Gravity,
    GravityType,
    cache_key,
    parse_presets,
    parse_processing_options,
)
from vylux_core.imgproxy.service import negotiate
from vylux_core.imgproxy.url import ImgproxySigner, parse_key_pairs, parse_request_path

# imgproxy's documentation example ("Signing the URL").
DOC_KEY = "736563726574"
DOC_SALT = "68656C6C6F"
DOC_PATH = "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"
DOC_SIGNATURE = "oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8"


def test_signature_matches_imgproxy_documentation() -> None:
    signer = ImgproxySigner(pairs=parse_key_pairs(DOC_KEY, DOC_SALT))
    assert signer.sign(DOC_PATH) == DOC_SIGNATURE
    signer.verify(DOC_SIGNATURE, DOC_PATH)


def test_truncated_signature_and_rotation() -> None:
    pairs = parse_key_pairs(f"{'aa' * 8},{DOC_KEY}", f"{'bb' * 8},{DOC_SALT}")
    short = ImgproxySigner(pairs=pairs, signature_size=8)
    # 8 bytes → 11 base64 characters, the documented signature's prefix (same key pair).
    assert short.sign(DOC_PATH, 1) == "oKfUtW34Dvo"
    short.verify("oKfUtW34Dvo", DOC_PATH)  # the second pair verifies too
    with pytest.raises(InvalidSignature):
        short.verify(DOC_SIGNATURE, DOC_PATH)  # untruncated is not the configured size
    with pytest.raises(ValueError, match="as many entries"):
        parse_key_pairs("aa,bb", "cc")


def test_insecure_only_when_allowed() -> None:
    pairs = parse_key_pairs(DOC_KEY, DOC_SALT)
    with pytest.raises(InvalidSignature):
        ImgproxySigner(pairs=pairs).verify("insecure", DOC_PATH)
    ImgproxySigner(pairs=pairs, allow_insecure=True).verify("_", DOC_PATH)


def test_base64_source_split_over_segments() -> None:
    request = parse_request_path("/w:10/cGhvdG9z/L2EuanBn.webp", source_bucket="")
    assert (request.source_key, request.format, request.segments) == (
        "photos/a.jpg",
        ImageFormat.WEBP,
        ("w:10",),
    )


def test_s3_source_of_the_source_bucket() -> None:
    request = parse_request_path("/w:10/plain/s3://src/photos/a.jpg@png", source_bucket="src")
    assert request.source_key == "photos/a.jpg"


def test_full_and_short_names_name_the_same_rendition() -> None:
    full = parse_processing_options(
        ["resize:fill:100:50:true", "gravity:no:5:5", "quality:70", "background:255:0:0"]
    )
    short = parse_processing_options(["rs:fill:100:50:1", "g:no:5:5", "q:70", "bg:ff0000"])
    assert full == short
    assert cache_key(full, "a.jpg", "png") == cache_key(short, "a.jpg", "png")
    # Delivery-only options do not make another rendition; cachebuster does.
    named = parse_processing_options(["rs:fill:100:50:1", "g:no:5:5", "q:70", "bg:ff0000", "fn:x"])
    assert cache_key(named, "a.jpg", "png") == cache_key(short, "a.jpg", "png")
    busted = parse_processing_options(["rs:fill:100:50:1", "g:no:5:5", "q:70", "bg:ff0000", "cb:1"])
    assert cache_key(busted, "a.jpg", "png") != cache_key(short, "a.jpg", "png")


def test_presets_default_and_only_presets() -> None:
    presets = parse_presets("default=q:60/f:webp,thumb=rs:fill:64:64")
    options = parse_processing_options(["pr:thumb", "q:90"], presets=presets)
    assert (options.width, options.quality, options.format) == (64, 90, ImageFormat.WEBP)
    only = parse_processing_options(["thumb"], presets=presets, only_presets=True)
    assert (only.width, only.quality) == (64, 60)
    with pytest.raises(InvalidImageOptions, match='unknown preset: "w"'):
        parse_processing_options(["w:10"], presets=presets, only_presets=True)
    with pytest.raises(InvalidImageOptions, match="unknown option"):
        parse_presets("bad=nope:1")


def test_negotiation_switches() -> None:
    both = "image/avif,image/webp,*/*"
    assert negotiate(both, auto_avif=True, auto_webp=True) is ImageFormat.AVIF
    assert negotiate(both, auto_avif=False, auto_webp=True) is ImageFormat.WEBP
    assert negotiate(both, auto_avif=False, auto_webp=False) is None
    assert negotiate("*/*", auto_avif=True, auto_webp=True) is None


@pytest.mark.parametrize(
    ("options", "final"),
    [
        (["rs:fit:100:100"], (100, 75)),
        (["rs:fill:100:100"], (100, 100)),
        (["rs:fill-down:800:300"], (400, 150)),
        (["rs:force:100:0"], (100, 300)),
        (["rs:auto:100:200"], (100, 75)),
        (["s:200:100"], (133, 100)),
        (["w:100", "dpr:2", "pd:5"], (220, 170)),
        (["rs:fit:500:500:0:1"], (500, 500)),
        (["c:0.5:0.5", "w:100"], (100, 75)),
        (["w:150", "mw:300"], (150, 225)),
    ],
)
def test_geometry_follows_imgproxy_arithmetic(options: list[str], final: tuple[int, int]) -> None:
    geometry = plan_geometry(Size(400, 300), parse_processing_options(options))
    assert (geometry.final.width, geometry.final.height) == final


def test_gravity_positions() -> None:
    outer, inner = Size(400, 300), Size(100, 100)
    assert position(outer, inner, Gravity()) == (150, 100)
    assert position(outer, inner, Gravity(GravityType.SOUTH_EAST)) == (300, 200)
    assert position(outer, inner, Gravity(GravityType.NORTH_WEST, 10, 20)) == (10, 20)
    assert position(outer, inner, Gravity(GravityType.FOCUS_POINT, 0.0, 1.0)) == (0, 200)


def test_embedded_profile_generates_the_key_and_salt(tmp_path: Path) -> None:
    env, _ = with_embedded_secrets({}, tmp_path)
    config = load_config(env)
    assert config.imgproxy is not None
    assert len(config.imgproxy.key_pairs[0].key) == 32
    assert "IMGPROXY_KEY" not in repr(config)


def test_server_profile_requires_the_key_and_salt_when_enabled() -> None:
    server = {
        "DATABASE_URL": "postgresql://vylux@db.internal:5432/vylux",
        **{name: "ab" * 32 for name in ("HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET")},
        "KEY_TOKEN_SECRET": "ab" * 16,
        "ENCRYPTION_KEY": "ab" * 32,
    }
    assert load_config(server).imgproxy is None  # off unless enabled
    with pytest.raises(ConfigError) as raised:
        load_config({**server, "IMGPROXY_ENABLED": "true"})
    assert any("IMGPROXY_KEY is required" in p for p in raised.value.problems)
    enabled = load_config(
        {**server, "IMGPROXY_ENABLED": "true", "IMGPROXY_KEY": "ab", "IMGPROXY_SALT": "cd"}
    )
    assert enabled.imgproxy is not None
    assert enabled.imgproxy.path_prefix == "/imgproxy"


@pytest.mark.parametrize(
    ("prefix", "taken"),
    [
        pytest.param("/img", "/img/:sig/:opts/*", id="img"),
        pytest.param("/img/x", "/img/:sig/:opts/*", id="under-img"),
        pytest.param("/api", "/api/key/:hash", id="api"),
        pytest.param("/api/jobs", "/api/jobs/:id/retry", id="api-jobs"),
        pytest.param("/stream/x", "/stream/:hash/*", id="under-stream"),
        pytest.param("/dashboard/api", "/dashboard/api/media/:id", id="dashboard-api"),
        pytest.param("/api/imgproxy", None, id="api-imgproxy-is-free"),
        pytest.param("/healthz", None, id="healthz-is-one-segment"),
        pytest.param("/imgproxy", None, id="default"),
    ],
)
def test_a_prefix_that_takes_the_services_own_paths_is_refused(
    tmp_path: Path, prefix: str, taken: str | None
) -> None:
    env, _ = with_embedded_secrets({"IMGPROXY_PATH_PREFIX": prefix}, tmp_path)
    if taken is None:
        assert load_config(env).imgproxy is not None
        return
    with pytest.raises(ConfigError) as raised:
        load_config(env)
    assert (
        f"IMGPROXY_PATH_PREFIX {prefix} would take paths of the service's own route {taken}"
        in raised.value.problems
    )


_NAMES = [*sorted(OPTION_NAMES), "", "x", "plain", "info"]
_ARGS = st.text(alphabet="0123456789.-:abcdefnoswtrue", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES), _ARGS), max_size=6))
def test_any_option_text_parses_or_is_a_400(segments: list[tuple[str, str]]) -> None:
    texts = [f"{name}:{args}" if args else name for name, args in segments]
    refusal = None
    try:
        options = parse_processing_options(texts, presets={"p": ("w:10",)})
    except InvalidImageOptions as error:
        refusal = error.message
    if refusal is not None:
        assert refusal.startswith("bad options: ")
        return
    # Every parsed option set names a rendition and plans a geometry.
    cache_key(options, "a.jpg", "png")
    plan_geometry(Size(37, 23), options)
