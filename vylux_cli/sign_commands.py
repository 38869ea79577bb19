"""``vylux-cli sign`` and ``vylux-cli key-token``: signed URLs and key tokens."""

from __future__ import annotations

import time
from urllib.parse import quote

import click

from vylux_cli.config import Config
from vylux_cli.go_duration import parse_go_duration
from vylux_core.errors import VyluxError
from vylux_core.image_options import canonical_options, parse_format, parse_image_options
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
