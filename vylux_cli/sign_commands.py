"""``vylux-cli sign`` and ``vylux-cli key-token``: signed URLs and key tokens."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from urllib.parse import quote

import click

from vylux_cli.config import Config
from vylux_cli.go_duration import parse_go_duration
from vylux_core.errors import VyluxError
from vylux_core.image_options import canonical_options, parse_format, parse_image_options
from vylux_core.imgproxy.options import FORMAT_NAMES, parse_processing_options
from vylux_core.imgproxy.url import ImgproxySigner
from vylux_core.key_token import mint_key_token
from vylux_core.media_hash import validate_media_hash
from vylux_core.signing import UrlSigner


def _encode_key(key: str) -> str:
    # Slashes stay readable; everything else that is not URL-safe is escaped once.
    return quote(key, safe="/")


def _base(config: Config, base_url: str | None) -> str:
    return (base_url or config.base_url or f"http://127.0.0.1:{config.port}").rstrip("/")


def sign_image_url(
    config: Config, source: str, options: str, fmt: str, base_url: str | None
) -> str:
    parsed = parse_image_options(options)
    image_format = parse_format(fmt)
    signer = UrlSigner(secret=config.secrets.hmac_secret)
    signature = signer.sign_image(parsed, source, image_format)
    path = f"/img/{signature}/{canonical_options(parsed)}/{_encode_key(source)}"
    return f"{_base(config, base_url)}{path}.{image_format.extension}"


def sign_object_url(config: Config, route: str, key: str, base_url: str | None) -> str:
    signer = UrlSigner(secret=config.secrets.hmac_secret)
    signature = signer.sign_original(key) if route == "original" else signer.sign_thumb(key)
    return f"{_base(config, base_url)}/{route}/{signature}/{_encode_key(key)}"


def mint_token(config: Config, media_hash: str, ttl: str) -> str:
    validate_media_hash(media_hash)
    expires = int(time.time() + parse_go_duration(ttl))
    return mint_key_token(config.secrets.key_token_secret, media_hash, expires)


def fail(error: VyluxError | ValueError) -> None:
    raise click.UsageError(str(error))


def sign_imgproxy_url(
    config: Config,
    source: str,
    options: str,
    fmt: str | None,
    base_url: str | None,
    *,
    encode_source: bool = False,
) -> str:
    """A signed URL of imgproxy's dialect (``IMGPROXY_KEY``/``IMGPROXY_SALT``, first pair)."""
    settings = config.imgproxy
    if settings is None:
        raise ValueError("the imgproxy route family is off (IMGPROXY_ENABLED)")
    segments = [segment for segment in options.split("/") if segment]
    # Refuse what the server would refuse, before anyone ships the URL.
    parse_processing_options(segments, presets=settings.presets, only_presets=settings.only_presets)
    if fmt is not None and fmt.lower() not in FORMAT_NAMES:
        raise ValueError(f"unsupported format {fmt!r}: jpg, png, webp, avif or gif")
    if encode_source:
        encoded = base64.urlsafe_b64encode(source.encode("utf-8")).decode("ascii").rstrip("=")
        tail = encoded + (f".{fmt}" if fmt else "")
    else:
        tail = "plain/" + quote(source, safe="/:") + (f"@{fmt}" if fmt else "")
    path = "/" + "/".join([*segments, tail])
    signer = ImgproxySigner(pairs=settings.key_pairs, signature_size=settings.signature_size)
    return f"{_base(config, base_url)}{settings.path_prefix}/{signer.sign(path)}{path}"


def imgproxy_command(load_config: Callable[[], Config]) -> click.Command:
    """``vylux-cli sign imgproxy``; ``load_config`` is the CLI's own loader."""

    @click.command("imgproxy")
    @click.argument("source")
    @click.option(
        "--options",
        "-o",
        default="rs:fit:800:0",
        show_default=True,
        help="imgproxy processing options separated by '/', e.g. rs:fill:300:200/g:sm.",
    )
    @click.option(
        "--format", "-f", "fmt", default=None, help="jpg, png, webp, avif or gif (default: Accept)."
    )
    @click.option("--base64", "encode_source", is_flag=True, help="Base64-encode the source.")
    @click.option(
        "--base-url",
        default=None,
        help="Origin to put in front (default: BASE_URL, else localhost).",
    )
    def sign_imgproxy(
        source: str, options: str, fmt: str | None, encode_source: bool, base_url: str | None
    ) -> None:
        """A signed imgproxy-dialect URL for SOURCE (a key in the source store)."""
        try:
            click.echo(
                sign_imgproxy_url(
                    load_config(), source, options, fmt, base_url, encode_source=encode_source
                )
            )
        except (VyluxError, ValueError) as error:
            fail(error)

    return sign_imgproxy
