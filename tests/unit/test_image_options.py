from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.errors import InvalidImageOptions, UnsupportedFormat
from vylux_core.images.options import (
    MAX_DIMENSION,
    ImageFormat,
    ImageOptions,
    cache_key_string,
    canonical_options,
    effective_quality,
    go_quote,
    parse_format,
    parse_image_options,
    processing_hash,
)

# --- formats (U6, U7) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("webp", ImageFormat.WEBP, id="webp"),
        pytest.param(".webp", ImageFormat.WEBP, id="leading-dot-stripped"),
        pytest.param("WEBP", ImageFormat.WEBP, id="upper-case"),
        pytest.param("avif", ImageFormat.AVIF, id="avif"),
        pytest.param("jpg", ImageFormat.JPG, id="jpg"),
        pytest.param("jpeg", ImageFormat.JPG, id="jpeg-alias"),
        pytest.param(".jpeg", ImageFormat.JPG, id="dotted-jpeg-alias"),
        pytest.param("JpEg", ImageFormat.JPG, id="mixed-case-alias"),
        pytest.param("png", ImageFormat.PNG, id="png"),
        pytest.param("gif", ImageFormat.GIF, id="gif"),
        pytest.param(".gif", ImageFormat.GIF, id="dotted-gif"),
    ],
)
def test_parse_format_accepts(text: str, want: ImageFormat) -> None:
    assert parse_format(text) is want


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(".", id="only-dot"),
        pytest.param("bmp", id="bmp"),
        pytest.param("..webp", id="two-dots"),
        pytest.param("webp ", id="trailing-space"),
        pytest.param("tiff", id="tiff"),
        pytest.param("AVİF", id="non-ascii-capital-i"),
        pytest.param("jpe", id="truncated-jpeg"),
    ],
)
def test_parse_format_rejects(text: str) -> None:
    with pytest.raises(UnsupportedFormat, match=r"^unsupported output format$"):
        parse_format(text)


@pytest.mark.parametrize(
    ("fmt", "mime", "ext", "quality", "animatable"),
    [
        pytest.param(ImageFormat.WEBP, "image/webp", "webp", 80, True, id="webp"),
        pytest.param(ImageFormat.AVIF, "image/avif", "avif", 50, False, id="avif"),
        pytest.param(ImageFormat.JPG, "image/jpeg", "jpg", 80, False, id="jpg"),
        pytest.param(ImageFormat.PNG, "image/png", "png", 0, False, id="png"),
        pytest.param(ImageFormat.GIF, "image/gif", "gif", 0, True, id="gif"),
    ],
)
def test_format_properties(
    fmt: ImageFormat, mime: str, ext: str, quality: int, animatable: bool
) -> None:
    assert (fmt.mime_type, fmt.extension, fmt.default_quality, fmt.animatable) == (
        mime,
        ext,
        quality,
        animatable,
    )


# --- option grammar (U1, U8) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("", ImageOptions(), id="empty-ok"),
        pytest.param("w300", ImageOptions(width=300), id="width"),
        pytest.param("w300_h200", ImageOptions(width=300, height=200), id="width-height"),
        pytest.param(
            "w300_h200_q80", ImageOptions(width=300, height=200, quality=80), id="all-three"
        ),
        pytest.param("q50", ImageOptions(quality=50), id="quality-only"),
        pytest.param("h200", ImageOptions(height=200), id="height-only"),
        pytest.param("w100_w200", ImageOptions(width=200), id="repeated-last-wins"),
        pytest.param("w+100", ImageOptions(width=100), id="plus-sign"),
        pytest.param("w007", ImageOptions(width=7), id="leading-zeros"),
        pytest.param("w-0", ImageOptions(width=0), id="minus-zero"),
        pytest.param("w0_h100", ImageOptions(width=0, height=100), id="zero-is-present"),
        pytest.param("q1", ImageOptions(quality=1), id="quality-low-bound"),
        pytest.param("q100", ImageOptions(quality=100), id="quality-high-bound"),
        pytest.param(f"w{MAX_DIMENSION}", ImageOptions(width=MAX_DIMENSION), id="width-at-cap"),
        pytest.param(f"h{MAX_DIMENSION}", ImageOptions(height=MAX_DIMENSION), id="height-at-cap"),
    ],
)
def test_parse_image_options_accepts(text: str, want: ImageOptions) -> None:
    assert parse_image_options(text) == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("w", 'invalid option token: "w"', id="token-too-short"),
        pytest.param("x", 'invalid option token: "x"', id="unknown-short-token"),
        pytest.param("w100__h5", 'invalid option token: ""', id="empty-token"),
        pytest.param("w100_", 'invalid option token: ""', id="trailing-underscore"),
        pytest.param("_", 'invalid option token: ""', id="only-underscore"),
        pytest.param("x100", 'unknown option prefix: "x"', id="unknown-prefix"),
        pytest.param("W100", 'unknown option prefix: "W"', id="upper-case-prefix"),
        pytest.param('"1', 'unknown option prefix: "\\""', id="quoted-quote-prefix"),
        pytest.param("w-1", 'invalid width: "-1"', id="negative-width"),
        pytest.param("wabc", 'invalid width: "abc"', id="non-numeric-width"),
        pytest.param("w1_000", 'unknown option prefix: "0"', id="underscore-splits-token"),
        pytest.param("w 1", 'invalid width: " 1"', id="space-in-width"),
        pytest.param("w1.5", 'invalid width: "1.5"', id="fractional-width"),
        pytest.param("w+", 'invalid width: "+"', id="sign-without-digits"),
        pytest.param("w٣", 'invalid width: "٣"', id="non-ascii-digit"),
        pytest.param(
            "w99999999999999999999",
            'invalid width: "99999999999999999999"',
            id="width-beyond-int64",
        ),
        pytest.param("w8193", 'width exceeds 8192: "8193"', id="width-over-cap"),
        pytest.param(
            "w9223372036854775807",
            'width exceeds 8192: "9223372036854775807"',
            id="width-int64-max-over-cap",
        ),
        pytest.param("h-5", 'invalid height: "-5"', id="negative-height"),
        pytest.param("h1e3", 'invalid height: "1e3"', id="exponent-height"),
        pytest.param("h8193", 'height exceeds 8192: "8193"', id="height-over-cap"),
        pytest.param("qabc", 'invalid quality: "abc" (must be 1-100)', id="non-numeric-quality"),
        pytest.param("q0", 'invalid quality: "0" (must be 1-100)', id="quality-zero"),
        pytest.param("q101", 'invalid quality: "101" (must be 1-100)', id="quality-over-100"),
        pytest.param("q-1", 'invalid quality: "-1" (must be 1-100)', id="negative-quality"),
        pytest.param("w1\n", 'invalid width: "1\\n"', id="trailing-newline-quoted"),
        pytest.param(" w1", 'unknown option prefix: " "', id="leading-space"),
        pytest.param("w300_x1_q0", 'unknown option prefix: "x"', id="first-error-wins"),
    ],
)
def test_parse_image_options_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidImageOptions) as caught:
        parse_image_options(text)
    assert str(caught.value) == f"bad options: {message}"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("w300_h200_q80", "w300_h200_q80", id="already-canonical"),
        pytest.param("q80_h200_w300", "w300_h200_q80", id="reordered"),
        pytest.param("h200_w300", "w300_h200", id="two-reordered"),
        pytest.param("", "", id="empty"),
        pytest.param("w+0100", "w100", id="sign-and-zeros-dropped"),
        pytest.param("w0_h100", "w0_h100", id="zero-token-kept"),
        pytest.param("q5_q50", "q50", id="repeat-collapsed"),
    ],
)
def test_canonical_options(text: str, want: str) -> None:
    assert canonical_options(parse_image_options(text)) == want


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"width": -1}, id="negative-width"),
        pytest.param({"height": MAX_DIMENSION + 1}, id="height-over-cap"),
        pytest.param({"quality": 0}, id="quality-zero"),
        pytest.param({"quality": 101}, id="quality-over-100"),
    ],
)
def test_image_options_refuses_out_of_range_values(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        ImageOptions(**kwargs)


# --- quality, cache key (U9, U10) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("opts", "fmt", "want"),
    [
        pytest.param(ImageOptions(), ImageFormat.WEBP, 80, id="webp-default"),
        pytest.param(ImageOptions(quality=42), ImageFormat.WEBP, 42, id="explicit-kept"),
        pytest.param(ImageOptions(), ImageFormat.AVIF, 50, id="avif-default"),
        pytest.param(ImageOptions(), ImageFormat.PNG, 0, id="png-unused"),
        pytest.param(ImageOptions(quality=50), ImageFormat.PNG, 50, id="png-explicit"),
    ],
)
def test_effective_quality(opts: ImageOptions, fmt: ImageFormat, want: int) -> None:
    assert effective_quality(opts, fmt) == want


@pytest.mark.parametrize(
    ("source", "opts", "fmt", "want_key", "want_hash"),
    [
        pytest.param(
            "media/uploads/abc.jpg",
            ImageOptions(width=300, height=200, quality=80),
            ImageFormat.WEBP,
            "media/uploads/abc.jpg/w300_h200_q80.webp",
            "0ab3f9c3a305691f348d3b51edd66b9d3f3cc02e2d807afafe0d313dc101152b",
            id="spec-vector",
        ),
        pytest.param(
            "media/uploads/abc.jpg",
            ImageOptions(width=300, height=200),
            ImageFormat.WEBP,
            "media/uploads/abc.jpg/w300_h200_q80.webp",
            "0ab3f9c3a305691f348d3b51edd66b9d3f3cc02e2d807afafe0d313dc101152b",
            id="default-quality-shares-entry",
        ),
        pytest.param(
            "a.png",
            ImageOptions(),
            ImageFormat.PNG,
            "a.png/w0_h0_q0.png",
            None,
            id="absent-values-are-zero",
        ),
    ],
)
def test_cache_key(
    source: str, opts: ImageOptions, fmt: ImageFormat, want_key: str, want_hash: str | None
) -> None:
    key = cache_key_string(source, opts, fmt)
    digest = processing_hash(source, opts, fmt)
    assert key == want_key
    assert len(digest) == 64
    assert want_hash is None or digest == want_hash


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("abc", '"abc"', id="plain"),
        pytest.param("", '""', id="empty"),
        pytest.param('a"b\\c', '"a\\"b\\\\c"', id="quote-and-backslash"),
        pytest.param("\n\t\r", '"\\n\\t\\r"', id="named-escapes"),
        pytest.param("\x00\x7f", '"\\x00\\x7f"', id="ascii-control"),
        pytest.param("é中", '"é中"', id="printable-unicode-kept"),
        pytest.param("\u00a0\u200b", '"\\u00a0\\u200b"', id="non-printable-unicode"),
        pytest.param("\U000e0001", '"\\U000e0001"', id="astral-non-printable"),
    ],
)
def test_go_quote(text: str, want: str) -> None:
    assert go_quote(text) == want


# --- properties -------------------------------------------------------------------------------

_dimension = st.none() | st.integers(min_value=0, max_value=MAX_DIMENSION)
_options = st.builds(
    ImageOptions,
    width=_dimension,
    height=_dimension,
    quality=st.none() | st.integers(min_value=1, max_value=100),
)


def _token_text(letter: str, sign: str, zeros: int, value: int) -> str:
    return f"{letter}{sign}{'0' * zeros}{value}"


# Valid but non-canonical spellings: signs, leading zeros, any order, repeats.
_token = st.one_of(
    st.builds(
        _token_text,
        st.sampled_from("wh"),
        st.sampled_from(["", "+"]),
        st.integers(0, 3),
        st.integers(0, MAX_DIMENSION),
    ),
    st.builds(
        _token_text,
        st.just("q"),
        st.sampled_from(["", "+"]),
        st.integers(0, 3),
        st.integers(1, 100),
    ),
)


@given(_options)
def test_parse_inverts_canonical(opts: ImageOptions) -> None:
    assert parse_image_options(canonical_options(opts)) == opts


@given(st.lists(_token, max_size=6).map("_".join))
def test_canonical_is_idempotent(text: str) -> None:
    once = canonical_options(parse_image_options(text))
    assert canonical_options(parse_image_options(once)) == once


@given(_options, _options)
def test_distinct_options_have_distinct_canonical_forms(a: ImageOptions, b: ImageOptions) -> None:
    assert (a == b) == (canonical_options(a) == canonical_options(b))


def _parse_outcome(text: str) -> str:
    """Canonical form on success, the error text on InvalidImageOptions; anything else escapes."""
    try:
        return canonical_options(parse_image_options(text))
    except InvalidImageOptions as exc:
        return str(exc)


@given(st.text())
def test_parse_raises_only_invalid_image_options(text: str) -> None:
    outcome = _parse_outcome(text)
    assert outcome.startswith("bad options: ") or _parse_outcome(outcome) == outcome


@given(st.text(alphabet="whqx_+-0123456789", max_size=20))
def test_parse_raises_only_invalid_image_options_on_near_grammar(text: str) -> None:
    outcome = _parse_outcome(text)
    assert outcome.startswith("bad options: ") or _parse_outcome(outcome) == outcome
