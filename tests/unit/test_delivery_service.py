"""DeliveryService on the memory store: /original, /thumb signatures and types, /stream paths."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vylux_adapters.memory import MemoryObjectStore
from vylux_core.errors import (
    InvalidHash,
    InvalidSignature,
    InvalidStorageKey,
    ObjectNotFound,
    UnsupportedFormat,
    VyluxError,
)
from vylux_core.ports.object_store import ByteRange
from vylux_core.security.signing import UrlSigner
from vylux_core.services.delivery_service import Delivery, DeliveryService

SIGNER = UrlSigner(secret="test-hmac-secret")
ORIGINAL_VECTOR = "fb878038d302f86f365cbcc68bd514d34f22fde578296f914ee7c465824e0eb4"
THUMB_VECTOR = "b52519b317ee9148d1d3af982bfb4022b21a539aa561e0e7fd6e0088b9627d47"
HASH = "abcdef1234567890"
BODY = b"object bytes"


@dataclass
class Rig:
    source: MemoryObjectStore
    media: MemoryObjectStore
    service: DeliveryService


def make_rig() -> Rig:
    source, media = MemoryObjectStore(), MemoryObjectStore()
    return Rig(source, media, DeliveryService(signer=SIGNER, source=source, media=media))


async def read_all(delivery: Delivery) -> bytes:
    try:
        return b"".join([chunk async for chunk in delivery.reader.chunks()])
    finally:
        await delivery.reader.aclose()


# --- /original ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_key",
    [
        pytest.param("uploads%2Fdemo%2Fsample%20image.png", id="encoded-slashes"),
        pytest.param("uploads/demo/sample%20image.png", id="literal-slashes"),
        pytest.param("/uploads/demo/sample%20image.png", id="leading-slash-trimmed"),
        pytest.param("uploads/demo/sample image.png", id="already-decoded"),
    ],
)
async def test_original_serves_the_spec_vector_in_every_spelling(raw_key: str) -> None:
    rig = make_rig()
    await rig.source.put_bytes("uploads/demo/sample image.png", BODY, content_type="image/png")

    delivery = await rig.service.original(ORIGINAL_VECTOR, raw_key)

    assert delivery.content_type == "image/png"
    assert delivery.as_attachment is False
    assert delivery.reader.info.key == "uploads/demo/sample image.png"
    assert await read_all(delivery) == BODY


async def test_thumb_serves_the_spec_vector_from_the_media_store() -> None:
    rig = make_rig()
    key = f"images/ab/{HASH}/thumb.png"
    await rig.media.put_bytes(key, BODY, content_type="image/png")

    delivery = await rig.service.thumb(THUMB_VECTOR, "images%2Fab%2Fabcdef1234567890%2Fthumb.png")

    assert delivery.content_type == "image/png"
    assert await read_all(delivery) == BODY


async def test_a_key_is_decoded_exactly_once() -> None:
    rig = make_rig()
    await rig.source.put_bytes("100%.png", BODY, content_type="image/png")
    delivery = await rig.service.original(SIGNER.sign_original("100%.png"), "100%25.png")
    assert await read_all(delivery) == BODY


@pytest.mark.parametrize(
    ("endpoint", "signature"),
    [
        pytest.param("original", SIGNER.sign_thumb("a/b.png"), id="thumb-sig-on-original"),
        pytest.param("thumb", SIGNER.sign_original("a/b.png"), id="original-sig-on-thumb"),
        pytest.param("original", SIGNER.sign_original("a/b.png").upper(), id="upper-case"),
        pytest.param("original", SIGNER.sign_original("a/c.png"), id="other-key"),
        pytest.param("thumb", "bad-signature", id="garbage-thumb"),
        pytest.param("original", "bad-signature", id="garbage-original"),
    ],
)
async def test_a_signature_from_elsewhere_is_rejected_before_storage(
    endpoint: str, signature: str
) -> None:
    rig = make_rig()
    # Only the object's absence would answer otherwise: the signature must fail first.
    deliver = rig.service.original if endpoint == "original" else rig.service.thumb
    with pytest.raises(InvalidSignature, match=r"^invalid signature$"):
        await deliver(signature, "a%2Fb.png")


@pytest.mark.parametrize("endpoint", ["original", "thumb"])
@pytest.mark.parametrize(
    ("signature", "raw_key", "message"),
    [
        pytest.param("", "a.png", "missing signature or object key", id="no-signature"),
        pytest.param("sig", "", "missing signature or object key", id="no-key"),
        pytest.param("sig", "/", "missing object key", id="only-a-slash"),
        pytest.param(
            "sig",
            "a%zz.png",
            'invalid object key encoding: invalid URL escape "%zz"',
            id="bad-escape",
        ),
        pytest.param(
            "sig",
            "a%4",
            'invalid object key encoding: invalid URL escape "%4"',
            id="truncated-escape",
        ),
        pytest.param(
            "sig",
            "a%ff.png",
            "invalid object key encoding: invalid UTF-8 in decoded text",
            id="not-utf8",
        ),
    ],
)
async def test_malformed_signed_requests(
    endpoint: str, signature: str, raw_key: str, message: str
) -> None:
    rig = make_rig()
    deliver = rig.service.original if endpoint == "original" else rig.service.thumb
    with pytest.raises(InvalidStorageKey) as caught:
        await deliver(signature, raw_key)
    assert str(caught.value) == message


@pytest.mark.parametrize("endpoint", ["original", "thumb"])
async def test_a_missing_object_is_not_found(endpoint: str) -> None:
    rig = make_rig()
    if endpoint == "original":
        call = rig.service.original(SIGNER.sign_original("gone.png"), "gone.png")
    else:
        call = rig.service.thumb(SIGNER.sign_thumb("gone.png"), "gone.png")
    with pytest.raises(ObjectNotFound):
        await call


@pytest.mark.parametrize(
    ("key", "stored_type", "want_type", "attachment"),
    [
        pytest.param("a.png", "application/x-junk", "image/png", False, id="table-beats-stored"),
        pytest.param("a.PNG", "", "image/png", False, id="upper-case-extension"),
        pytest.param("a.jpeg", "", "image/jpeg", False, id="jpeg"),
        pytest.param("a.json", "", "application/json", False, id="json"),
        pytest.param("a.pdf", "", "application/pdf", False, id="pdf"),
        pytest.param("a.html", "", "text/html; charset=utf-8", True, id="html-attachment"),
        pytest.param("a.htm", "", "text/html; charset=utf-8", True, id="htm-attachment"),
        pytest.param("a.svg", "", "image/svg+xml", True, id="svg-attachment"),
        pytest.param("a.xml", "", "text/xml; charset=utf-8", True, id="xml-attachment"),
        pytest.param("notes", "text/plain", "text/plain", False, id="stored-type-if-unknown"),
        pytest.param("a.bin", "", "application/octet-stream", False, id="octet-stream-fallback"),
        pytest.param("page", "text/html", "text/html", True, id="stored-html-attachment"),
        pytest.param("pic", "IMAGE/SVG+XML", "IMAGE/SVG+XML", True, id="stored-svg-any-case"),
        pytest.param(
            "feed", "text/xml;charset=UTF-8", "text/xml;charset=UTF-8", True, id="stored-xml"
        ),
        pytest.param("doc", "application/xhtml+xml", "application/xhtml+xml", True, id="xhtml"),
        pytest.param("data", "application/xml", "application/xml", True, id="application-xml"),
        pytest.param(
            "notes", "text/plain; charset=utf-8", "text/plain; charset=utf-8", False, id="params"
        ),
    ],
)
async def test_original_content_type_and_disposition(
    key: str, stored_type: str, want_type: str, attachment: bool
) -> None:
    rig = make_rig()
    await rig.source.put_bytes(key, BODY, content_type=stored_type)
    delivery = await rig.service.original(SIGNER.sign_original(key), key)
    assert (delivery.content_type, delivery.as_attachment) == (want_type, attachment)


@pytest.mark.parametrize(
    ("key", "stored_type", "want_type", "attachment"),
    [
        pytest.param("t.webp", "application/x-junk", "image/webp", False, id="table"),
        pytest.param("t.GIF", "", "image/gif", False, id="upper-case-extension"),
        pytest.param("blob", "image/png", "application/octet-stream", False, id="stored-ignored"),
        pytest.param("page", "text/html", "application/octet-stream", False, id="stored-html"),
        pytest.param("t.svg", "", "image/svg+xml", True, id="svg-attachment"),
        pytest.param("t.html", "", "text/html; charset=utf-8", True, id="html-attachment"),
    ],
)
async def test_thumb_content_type_comes_only_from_the_extension(
    key: str, stored_type: str, want_type: str, attachment: bool
) -> None:
    rig = make_rig()
    await rig.media.put_bytes(key, BODY, content_type=stored_type)
    delivery = await rig.service.thumb(SIGNER.sign_thumb(key), key)
    assert (delivery.content_type, delivery.as_attachment) == (want_type, attachment)


BIG = bytes(range(256)) * 1024  # 256 KiB: several memory-store chunks


@pytest.mark.parametrize(
    ("byte_range", "want"),
    [
        pytest.param(ByteRange(10, 100_009), BIG[10:100_010], id="bounded"),
        pytest.param(ByteRange(200_000), BIG[200_000:], id="open-ended"),
        pytest.param(ByteRange(0, 0), BIG[:1], id="first-byte"),
        pytest.param(None, BIG, id="whole"),
    ],
)
@pytest.mark.parametrize("endpoint", ["original", "thumb", "stream"])
async def test_a_range_is_passed_to_the_store(
    endpoint: str, byte_range: ByteRange | None, want: bytes
) -> None:
    rig = make_rig()
    if endpoint == "original":
        await rig.source.put_bytes("v.mp4", BIG, content_type="video/mp4")
        delivery = await rig.service.original(SIGNER.sign_original("v.mp4"), "v.mp4", byte_range)
    elif endpoint == "thumb":
        await rig.media.put_bytes("v.mp4", BIG, content_type="video/mp4")
        delivery = await rig.service.thumb(SIGNER.sign_thumb("v.mp4"), "v.mp4", byte_range)
    else:
        await rig.media.put_bytes(f"videos/ab/{HASH}/v.mp4", BIG, content_type="video/mp4")
        delivery = await rig.service.stream(HASH, "v.mp4", byte_range)
    assert delivery.reader.info.size == len(BIG)
    assert await read_all(delivery) == want


# --- /stream -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_hash", "raw_path", "want_key", "want_type"),
    [
        pytest.param(
            HASH,
            "master.m3u8",
            f"videos/ab/{HASH}/master.m3u8",
            "application/vnd.apple.mpegurl",
            id="spec-example",
        ),
        pytest.param(
            HASH,
            "v0/seg_001.m4s",
            f"videos/ab/{HASH}/v0/seg_001.m4s",
            "video/iso.segment",
            id="segment",
        ),
        pytest.param(
            HASH, "v0/init.mp4", f"videos/ab/{HASH}/v0/init.mp4", "video/mp4", id="init-segment"
        ),
        pytest.param(HASH, "cover.jpg", f"videos/ab/{HASH}/cover.jpg", "image/jpeg", id="jpg"),
        pytest.param(HASH, "cover.JPEG", f"videos/ab/{HASH}/cover.JPEG", "image/jpeg", id="JPEG"),
        pytest.param(HASH, "preview.webp", f"videos/ab/{HASH}/preview.webp", "image/webp", id="w"),
        pytest.param(HASH, "preview.gif", f"videos/ab/{HASH}/preview.gif", "image/gif", id="gif"),
        pytest.param("x", "master.m3u8", "videos/x/x/master.m3u8", None, id="one-char-hash"),
        pytest.param(
            HASH, "v0%2Fseg%20one.m4s", f"videos/ab/{HASH}/v0/seg one.m4s", None, id="decoded"
        ),
        pytest.param(HASH, "a%2541.m4s", f"videos/ab/{HASH}/a%41.m4s", None, id="decoded-once"),
    ],
)
async def test_stream_maps_to_the_hash_video_tree(
    media_hash: str, raw_path: str, want_key: str, want_type: str | None
) -> None:
    rig = make_rig()
    await rig.media.put_bytes(want_key, BODY, content_type="application/x-stored")

    delivery = await rig.service.stream(media_hash, raw_path)

    assert delivery.reader.info.key == want_key
    assert delivery.as_attachment is False
    if want_type is not None:
        assert delivery.content_type == want_type
    assert await read_all(delivery) == BODY


@pytest.mark.parametrize(
    ("raw_path", "want_type"),
    [
        pytest.param("downloads/highest.mp4", "video/mp4", id="highest"),
        pytest.param("downloads/audio.m4a", "audio/mp4", id="audio"),
        pytest.param("audio-only/downloads/audio.mp3", "audio/mpeg", id="audio-job-mp3"),
        pytest.param("audio-only/downloads/audio.m4a", "audio/mp4", id="audio-job-m4a"),
        pytest.param("audio-only/downloads/audio.flac", "audio/flac", id="audio-job-flac"),
    ],
)
async def test_stream_serves_downloads_as_attachments(raw_path: str, want_type: str) -> None:
    rig = make_rig()
    await rig.media.put_bytes(f"videos/ab/{HASH}/{raw_path}", BODY, content_type=want_type)

    delivery = await rig.service.stream(HASH, raw_path)

    assert (delivery.content_type, delivery.as_attachment) == (want_type, True)


async def test_stream_serves_the_audio_job_stream_and_waveform_inline() -> None:
    rig = make_rig()
    for path in ("audio-only/master.m3u8", "audio-only/waveform.json"):
        await rig.media.put_bytes(f"videos/ab/{HASH}/{path}", BODY, content_type="")

        delivery = await rig.service.stream(HASH, path)

        assert delivery.as_attachment is False


@pytest.mark.parametrize(
    ("media_hash", "raw_path", "error", "message"),
    [
        pytest.param("", "master.m3u8", InvalidStorageKey, "missing hash or file path", id="nh"),
        pytest.param(HASH, "", InvalidStorageKey, "missing hash or file path", id="no-path"),
        pytest.param(HASH, "../secret.m3u8", InvalidStorageKey, "invalid path", id="dotdot"),
        pytest.param(HASH, "v0/../../x.m3u8", InvalidStorageKey, "invalid path", id="inner"),
        pytest.param(HASH, "a..b.m3u8", InvalidStorageKey, "invalid path", id="dotdot-in-name"),
        pytest.param(HASH, "%2E%2E/x.m3u8", InvalidStorageKey, "invalid path", id="encoded-dots"),
        pytest.param(HASH, "a%zz.m3u8", InvalidStorageKey, "invalid path", id="bad-escape"),
        pytest.param(HASH, "/master.m3u8", InvalidStorageKey, "invalid path", id="absolute"),
        pytest.param(HASH, "v0//a.m4s", InvalidStorageKey, "invalid path", id="empty-segment"),
        pytest.param(HASH, "./a.m4s", InvalidStorageKey, "invalid path", id="dot-segment"),
        pytest.param(
            HASH, "secret.txt", UnsupportedFormat, "unsupported file type", id="txt-extension"
        ),
        pytest.param(HASH, "cover.png", UnsupportedFormat, "unsupported file type", id="png"),
        pytest.param(HASH, "master", UnsupportedFormat, "unsupported file type", id="none"),
        pytest.param(
            "../x", "a.bmp", UnsupportedFormat, "unsupported file type", id="type-before-hash"
        ),
    ],
)
async def test_stream_rejects_bad_paths_before_storage(
    media_hash: str, raw_path: str, error: type[VyluxError], message: str
) -> None:
    rig = make_rig()
    with pytest.raises(error) as caught:
        await rig.service.stream(media_hash, raw_path)
    assert type(caught.value) is error
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "media_hash",
    [
        pytest.param("ab/cd", id="slash"),
        pytest.param("ab.cd", id="dot"),
        pytest.param("a" * 129, id="too-long"),
        pytest.param("ab cd", id="space"),
    ],
)
async def test_stream_rejects_an_invalid_hash(media_hash: str) -> None:
    rig = make_rig()
    with pytest.raises(InvalidHash):
        await rig.service.stream(media_hash, "master.m3u8")


async def test_stream_of_a_missing_object_is_not_found() -> None:
    rig = make_rig()
    with pytest.raises(ObjectNotFound):
        await rig.service.stream(HASH, "master.m3u8")
