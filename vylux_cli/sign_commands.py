"""``vylux-cli sign`` and ``vylux-cli key-token``: signed URLs and key tokens."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from urllib.parse import quote

import click

from vylux_cli.config import Config
from vylux_cli.go_duration import parse_go_duration
from vylux_cli.runtime_config import local_source_dir
from vylux_core.errors import VyluxError
from vylux_core.images.options import canonical_options, parse_format, parse_image_options
from vylux_core.imgproxy.options import FORMAT_NAMES, parse_processing_options
from vylux_core.imgproxy.service import parse_info_options
from vylux_core.imgproxy.url import ImgproxySigner
from vylux_core.media.media_hash import validate_media_hash
from vylux_core.security.key_token import mint_key_token
from vylux_core.security.signing import UrlSigner

SECONDS_PER_DAY = 86400.0


def _encode_key(key: str) -> str:
    # Slashes stay readable; everything else that is not URL-safe is escaped once.
    return quote(key, safe="/")


def _base(config: Config, base_url: str | None) -> str:
    return (base_url or config.base_url or f"http://127.0.0.1:{config.port}").rstrip("/")


def _check_key(key: str) -> None:
    # A leading slash would make the path `//…`, which names no object in any store.
    if key.startswith("/"):
        raise click.BadParameter(
            f"{key!r} is an absolute path; give the object's key in the source store "
            "(e.g. photos/cat.jpg)",
            param_hint="KEY",
        )
    if not key:
        raise click.BadParameter("must not be empty", param_hint="KEY")


def check_source_key(config: Config, key: str) -> None:
    """Refuse keys no store can hold; warn when the local source store lacks ``key``."""
    _check_key(key)
    root = local_source_dir(config)
    if root is None:
        return  # S3: asking would need credentials and a round trip for a print command
    # Synchronous on purpose: a print command has no event loop to spare (and may be
    # called from inside one).
    from vylux_adapters.local.files import stat_object
    from vylux_adapters.local.layout import locate
    from vylux_core.errors import ObjectNotFound

    try:
        location = locate(key)
    except VyluxError as error:  # a key the local store refuses (InvalidStorageKey)
        raise click.BadParameter(str(error), param_hint="KEY") from error
    try:
        found = root.is_dir() and bool(stat_object(root, location))
    except (ObjectNotFound, OSError):
        found = False
    if not found:
        click.echo(f"warning: the source store ({root}) holds no object {key!r}", err=True)


def sign_image_url(
    config: Config, source: str, options: str, fmt: str, base_url: str | None
) -> str:
    _check_key(source)
    try:
        parsed = parse_image_options(options)
        image_format = parse_format(fmt)
    except (VyluxError, ValueError) as error:
        raise click.UsageError(str(error)) from error
    signer = UrlSigner(secret=config.secrets.hmac_secret)
    signature = signer.sign_image(parsed, source, image_format)
    path = f"/img/{signature}/{canonical_options(parsed)}/{_encode_key(source)}"
    return f"{_base(config, base_url)}{path}.{image_format.extension}"


def sign_object_url(config: Config, route: str, key: str, base_url: str | None) -> str:
    _check_key(key)
    signer = UrlSigner(secret=config.secrets.hmac_secret)
    signature = signer.sign_original(key) if route == "original" else signer.sign_thumb(key)
    return f"{_base(config, base_url)}/{route}/{signature}/{_encode_key(key)}"


def parse_ttl(text: str) -> float:
    """A positive lifetime: Go syntax (``90s``, ``1h30m``) or whole days (``1d``, ``7d``)."""
    value = text.strip()
    try:
        if value.endswith("d") and value[:-1].isdigit():
            seconds = int(value[:-1]) * SECONDS_PER_DAY
        else:
            seconds = parse_go_duration(value)
    except ValueError as error:
        raise click.BadParameter(f"{error} (or whole days, e.g. 1d)", param_hint="--ttl") from None
    if seconds <= 0:
        raise click.BadParameter(
            f"{text!r} is not a positive lifetime: the token would be expired already",
            param_hint="--ttl",
        )
    return seconds


def mint_token(config: Config, media_hash: str, ttl: str) -> tuple[str, int]:
    """The token and its expiry (Unix seconds)."""
    try:
        validate_media_hash(media_hash)
    except VyluxError as error:
        raise click.BadParameter(str(error), param_hint="HASH") from error
    expires = int(time.time() + parse_ttl(ttl))
    return mint_key_token(config.secrets.key_token_secret, media_hash, expires), expires


def output(view: Mapping[str, object], text: str, *, as_json: bool) -> None:
    """``view`` as one JSON object with ``--json``, else ``text`` alone."""
    click.echo(json.dumps(view, ensure_ascii=False) if as_json else text)


def sign_imgproxy_url(
    config: Config,
    source: str,
    options: str,
    fmt: str | None,
    base_url: str | None,
    *,
    encode_source: bool = False,
    info: bool = False,
) -> str:
    """A signed URL of imgproxy's dialect (``IMGPROXY_KEY``/``IMGPROXY_SALT``, first pair);
    ``info``: of the info endpoint, ``{prefix}/{signature}/info/…``."""
    settings = config.imgproxy
    if settings is None:
        raise ValueError("the imgproxy route family is off (IMGPROXY_ENABLED)")
    segments = [segment for segment in options.split("/") if segment]
    # Refuse what the server would refuse, before anyone ships the URL.
    if info:
        if fmt is not None:
            raise ValueError("the info endpoint answers JSON: no format")
        parse_info_options(segments)
        segments.insert(0, "info")
    else:
        parse_processing_options(
            segments, presets=settings.presets, only_presets=settings.only_presets
        )
    if fmt is not None and fmt.lower() not in FORMAT_NAMES:
        raise ValueError(f"unsupported format {fmt!r}: {', '.join(sorted(FORMAT_NAMES))}")
    if encode_source:
        encoded = base64.urlsafe_b64encode(source.encode("utf-8")).decode("ascii").rstrip("=")
        tail = encoded + (f".{fmt}" if fmt else "")
    else:
        tail = "plain/" + quote(source, safe="/:") + (f"@{fmt}" if fmt else "")
    path = "/" + "/".join([*segments, tail])
    signer = ImgproxySigner(pairs=settings.key_pairs, signature_size=settings.signature_size)
    return f"{_base(config, base_url)}{settings.path_prefix}/{signer.sign(path)}{path}"
