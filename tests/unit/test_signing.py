from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.errors import InvalidImageOptions, InvalidSignature, InvalidStorageKey
from vylux_core.images.options import MAX_DIMENSION, ImageFormat, ImageOptions, parse_image_options
from vylux_core.images.path import parse_image_request_path
from vylux_core.security.signing import UrlSigner, canonical_object_key

SECRET = "test-hmac-secret"
SIGNER = UrlSigner(secret=SECRET)

IMAGE_VECTOR = "4fccac69e25e6af47174cc2d0be0cba65dc78ee3215f77103e6eeab040881f0c"
ORIGINAL_VECTOR = "fb878038d302f86f365cbcc68bd514d34f22fde578296f914ee7c465824e0eb4"
THUMB_VECTOR = "b52519b317ee9148d1d3af982bfb4022b21a539aa561e0e7fd6e0088b9627d47"


def _hmac_hex(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def _verify_img_request(sig: str, opts_text: str, remainder: str) -> None:
    """What the /img route does with the raw path parts (spec §5.1.4 steps 1-5)."""
    source_key, fmt = parse_image_request_path(remainder)
    SIGNER.verify_image(sig, parse_image_options(opts_text), source_key, fmt)


# --- spec vectors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed", "message", "want"),
    [
        pytest.param(
            lambda: SIGNER.sign_image(
                parse_image_options("h200_w300"),
                *parse_image_request_path("uploads%2FMy%20Image.png.JPEG"),
            ),
            "w300_h200/uploads/My Image.png.jpg",
            IMAGE_VECTOR,
            id="img",
        ),
        pytest.param(
            lambda: SIGNER.sign_original(
                canonical_object_key("uploads%2Fdemo%2Fsample%20image.png")
            ),
            "/uploads/demo/sample image.png",
            ORIGINAL_VECTOR,
            id="original",
        ),
        pytest.param(
            lambda: SIGNER.sign_thumb(
                canonical_object_key("images%2Fab%2Fabcdef1234567890%2Fthumb.png")
            ),
            "thumb/images/ab/abcdef1234567890/thumb.png",
            THUMB_VECTOR,
            id="thumb",
        ),
    ],
)
def test_spec_vectors(signed: Callable[[], str], message: str, want: str) -> None:
    assert signed() == want
    assert _hmac_hex(message) == want


# --- /img verification (U3 and friends) -------------------------------------------------------


@pytest.mark.parametrize(
    ("opts_text", "remainder"),
    [
        pytest.param("w300_h200", "uploads/My%20Image.png.jpg", id="canonical-opts-encoded-key"),
        pytest.param("h200_w300", "uploads/My Image.png.jpg", id="signed-form"),
        pytest.param("w300_h200", "uploads/My%20Image.png.jpeg", id="jpeg-alias"),
        pytest.param("w300_h200", "uploads%2FMy%20Image.png.JPG", id="encoded-slash-upper-ext"),
        pytest.param("w+300_h0200", "uploads/My Image.png.jpg", id="non-canonical-numbers"),
        pytest.param("w1_h200_w300", "uploads/My Image.png.jpg", id="repeat-last-wins"),
    ],
)
def test_verify_image_accepts_equivalent_requests(opts_text: str, remainder: str) -> None:
    sig = SIGNER.sign_image(
        ImageOptions(width=300, height=200), "uploads/My Image.png", ImageFormat.JPG
    )
    _verify_img_request(sig, opts_text, remainder)


_GOOD_IMG_SIG = SIGNER.sign_image(
    ImageOptions(width=300, height=200), "uploads/My Image.png", ImageFormat.JPG
)


@pytest.mark.parametrize(
    ("sig", "opts_text", "remainder"),
    [
        pytest.param(_GOOD_IMG_SIG, "w400_h200", "uploads/My Image.png.jpg", id="other-width"),
        pytest.param(_GOOD_IMG_SIG, "w300_h200_q80", "uploads/My Image.png.jpg", id="extra-q"),
        pytest.param(_GOOD_IMG_SIG, "w300_h200", "uploads/My Image.png.png", id="other-format"),
        pytest.param(_GOOD_IMG_SIG, "w300_h200", "uploads/my Image.png.jpg", id="key-case"),
        pytest.param(_GOOD_IMG_SIG, "w300_h200", "uploads/My+Image.png.jpg", id="plus-not-space"),
        pytest.param(_GOOD_IMG_SIG.upper(), "w300_h200", "uploads/My Image.png.jpg", id="upper"),
        pytest.param("", "w300_h200", "uploads/My Image.png.jpg", id="empty-sig"),
        pytest.param(_GOOD_IMG_SIG[:-1], "w300_h200", "uploads/My Image.png.jpg", id="short"),
        pytest.param(_GOOD_IMG_SIG + "0", "w300_h200", "uploads/My Image.png.jpg", id="long"),
        pytest.param("é" * 64, "w300_h200", "uploads/My Image.png.jpg", id="non-ascii-sig"),
        pytest.param("w0_h200", "w0_h200", "uploads/My Image.png.jpg", id="garbage-sig"),
    ],
)
def test_verify_image_rejects(sig: str, opts_text: str, remainder: str) -> None:
    with pytest.raises(InvalidSignature, match=r"^invalid signature$"):
        _verify_img_request(sig, opts_text, remainder)


def test_zero_token_signs_differently_from_absent_token() -> None:
    with_zero = SIGNER.sign_image(ImageOptions(width=0, height=100), "a", ImageFormat.PNG)
    without = SIGNER.sign_image(ImageOptions(height=100), "a", ImageFormat.PNG)
    assert with_zero != without


# --- the /img empty-options ↔ /original collision -----------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: _verify_img_request(
                SIGNER.sign_original("photo.png.webp"), "", "photo.png.webp"
            ),
            id="verify-with-original-sig",
        ),
        pytest.param(
            lambda: _verify_img_request(_hmac_hex("/photo.png.webp"), "", "photo.png.webp"),
            id="verify-with-legacy-empty-opts-sig",
        ),
        pytest.param(
            lambda: SIGNER.sign_image(ImageOptions(), "photo.png", ImageFormat.WEBP),
            id="sign-refuses",
        ),
    ],
)
def test_empty_image_options_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(InvalidImageOptions, match=r"^bad options: options must not be empty$"):
        call()


# --- /original and /thumb (U4, U5, cross-domain) -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        pytest.param("uploads%2FMy%20Image.png", "uploads/My Image.png", id="encoded"),
        pytest.param("uploads/My Image.png", "uploads/My Image.png", id="decoded-passes"),
        pytest.param("/uploads/a.png", "uploads/a.png", id="leading-slash-trimmed"),
        pytest.param("//uploads/a.png", "/uploads/a.png", id="only-one-slash-trimmed"),
        pytest.param("%2Fuploads/a.png", "/uploads/a.png", id="encoded-slash-not-trimmed"),
        pytest.param("100%25.png", "100%.png", id="decoded-once"),
    ],
)
def test_canonical_object_key(raw: str, want: str) -> None:
    assert canonical_object_key(raw) == want


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("", "missing object key", id="empty"),
        pytest.param("/", "missing object key", id="only-slash"),
        pytest.param(
            "a%zz.png", 'invalid object key encoding: invalid URL escape "%zz"', id="bad-escape"
        ),
        pytest.param("a%4", 'invalid object key encoding: invalid URL escape "%4"', id="truncated"),
        pytest.param(
            "%ff.png", "invalid object key encoding: invalid UTF-8 in decoded text", id="bad-utf8"
        ),
        pytest.param("a%00", "invalid object key encoding: NUL byte in decoded text", id="nul"),
    ],
)
def test_canonical_object_key_rejects(raw: str, message: str) -> None:
    with pytest.raises(InvalidStorageKey) as caught:
        canonical_object_key(raw)
    assert str(caught.value) == message


_ORIGINAL_SIG = SIGNER.sign_original("uploads/My Image.png")
_THUMB_SIG = SIGNER.sign_thumb("uploads/My Image.png")


@pytest.mark.parametrize(
    ("verify", "sig", "raw_key"),
    [
        pytest.param(SIGNER.verify_original, _ORIGINAL_SIG, "uploads%2FMy%20Image.png", id="o-enc"),
        pytest.param(SIGNER.verify_original, _ORIGINAL_SIG, "uploads/My Image.png", id="o-plain"),
        pytest.param(SIGNER.verify_original, _ORIGINAL_SIG, "/uploads/My%20Image.png", id="o-lead"),
        pytest.param(SIGNER.verify_thumb, _THUMB_SIG, "uploads%2FMy%20Image.png", id="t-encoded"),
        pytest.param(SIGNER.verify_thumb, _THUMB_SIG, "uploads/My Image.png", id="thumb-plain"),
    ],
)
def test_object_signatures_verify(
    verify: Callable[[str, str], None], sig: str, raw_key: str
) -> None:
    verify(sig, canonical_object_key(raw_key))


@pytest.mark.parametrize(
    ("verify", "sig", "key"),
    [
        pytest.param(SIGNER.verify_original, _ORIGINAL_SIG, "uploads/Other.png", id="o-other-key"),
        pytest.param(SIGNER.verify_original, _THUMB_SIG, "uploads/My Image.png", id="thumb-on-o"),
        pytest.param(SIGNER.verify_thumb, _ORIGINAL_SIG, "uploads/My Image.png", id="o-on-thumb"),
        pytest.param(SIGNER.verify_thumb, _THUMB_SIG, "uploads/Other.png", id="t-other-key"),
        pytest.param(
            SIGNER.verify_original, _ORIGINAL_SIG.upper(), "uploads/My Image.png", id="up"
        ),
        pytest.param(SIGNER.verify_original, "", "uploads/My Image.png", id="o-empty-sig"),
        pytest.param(SIGNER.verify_thumb, "", "uploads/My Image.png", id="t-empty-sig"),
        pytest.param(
            UrlSigner(secret="other-secret").verify_original,
            _ORIGINAL_SIG,
            "uploads/My Image.png",
            id="other-secret",
        ),
    ],
)
def test_object_signatures_reject(verify: Callable[[str, str], None], sig: str, key: str) -> None:
    with pytest.raises(InvalidSignature, match=r"^invalid signature$"):
        verify(sig, key)


def test_repr_hides_secret() -> None:
    assert SECRET not in repr(SIGNER)


# --- properties --------------------------------------------------------------------------------

_present_options = st.builds(
    ImageOptions,
    width=st.none() | st.integers(0, MAX_DIMENSION),
    height=st.none() | st.integers(0, MAX_DIMENSION),
    quality=st.none() | st.integers(1, 100),
).filter(lambda o: not o.is_empty)
_keys = st.text(min_size=1, alphabet=st.characters(exclude_categories=["Cs"]))


@given(_present_options, _keys, st.sampled_from(ImageFormat))
def test_image_round_trip(opts: ImageOptions, key: str, fmt: ImageFormat) -> None:
    SIGNER.verify_image(SIGNER.sign_image(opts, key, fmt), opts, key, fmt)


@given(st.text(), _keys)
def test_arbitrary_signature_text_raises_only_invalid_signature(sig: str, key: str) -> None:
    with pytest.raises(InvalidSignature):
        SIGNER.verify_original(sig, key)
