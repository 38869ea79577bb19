"""Configuration from environment variables: every setting, its default and its checks."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from attrs import field, frozen
from dotenv import dotenv_values

from vylux_adapters.http.settings import DEFAULT_BODY_READ_TIMEOUT
from vylux_cli.go_duration import parse_go_duration
from vylux_core.errors import InvalidImageOptions
from vylux_core.imgproxy.options import parse_presets
from vylux_core.imgproxy.url import DEFAULT_SIGNATURE_SIZE, KeyPair, parse_key_pairs
from vylux_core.result_budget import DEFAULT_MAX_RESULT_PIXELS, DEFAULT_MAX_UPSCALE

MODES = ("all", "server", "worker")
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
LOG_FORMATS = ("json", "console")
# Heartbeats go every third of the lease: below this they would flood the queue.
MIN_LEASE_SECONDS = 3.0
DEFAULT_DATA_DIR = "./vylux-data"

# Secret name -> minimum bytes once hex-decoded (http-api §11).
SECRET_MIN_BYTES = {
    "HMAC_SECRET": 32,
    "API_KEY": 32,
    "WEBHOOK_SECRET": 32,
    "KEY_TOKEN_SECRET": 16,
    "ENCRYPTION_KEY": 32,
}
# Generated into the embedded profile's secrets.env, required by a server profile only
# when the imgproxy route family is enabled (hex bytes, as imgproxy reads them).
IMGPROXY_SECRET_BYTES = {"IMGPROXY_KEY": 32, "IMGPROXY_SALT": 32}
_HEX = re.compile(r"[0-9a-fA-F]*")
_KEK_ENTRY = re.compile(r"[A-Za-z0-9._-]{1,32}:(.*)")


class ConfigError(Exception):
    """Invalid configuration; ``problems`` holds one line per variable at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration: " + "; ".join(problems))
        self.problems = problems


@frozen(kw_only=True)
class S3Settings:
    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    region: str
    bucket: str


@frozen(kw_only=True)
class Secrets:
    """Used as their literal text (HMAC keys), like the reference; never logged."""

    hmac_secret: str = field(repr=False)
    api_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    key_token_secret: str = field(repr=False)
    encryption_key: str = field(repr=False)


@frozen(kw_only=True)
class ImgproxyConfig:
    """The imgproxy route family (docs/images.md); None on :class:`Config` = off."""

    path_prefix: str
    key_pairs: tuple[KeyPair, ...] = field(repr=False)
    signature_size: int
    allow_insecure: bool
    presets: dict[str, tuple[str, ...]]
    only_presets: bool
    auto_avif: bool
    auto_webp: bool
    watermark_path: str | None = None


@frozen(kw_only=True)
class Config:
    mode: str
    port: int
    metrics_port: int
    base_url: str
    data_dir: Path
    scratch_dir: Path | None
    # URLs may carry passwords.
    database_url: str | None = field(repr=False)
    redis_url: str | None = field(repr=False)
    source_s3: S3Settings | None
    media_s3: S3Settings | None
    secrets: Secrets
    worker_concurrency: int
    large_worker_concurrency: int
    worker_metrics_port: int
    large_file_threshold: int
    max_file_size: int
    cache_max_size: int
    image_max_source_bytes: int
    image_source_bytes_in_flight: int
    image_budget_wait: float
    image_max_pixels: int
    image_max_result_pixels: int
    image_max_upscale: int
    ffmpeg_path: str | None
    ffprobe_path: str | None
    shaka_packager_path: str | None
    shutdown_timeout: float
    body_read_timeout: float
    worker_shutdown_timeout: float
    worker_lease_timeout: float
    reconcile_interval: float
    reconcile_grace: float
    log_level: str
    log_format: str
    access_log: bool
    otel_endpoint: str
    allow_private_callbacks: bool
    cors_allowed_origins: tuple[str, ...]
    stream_cors_allowed_origins: tuple[str, ...]
    dashboard_enabled: bool
    imgproxy: ImgproxyConfig | None = None

    @property
    def embedded(self) -> bool:
        """No DATABASE_URL: SQLite and local directories under ``data_dir``."""
        return self.database_url is None


def read_environment(environ: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """``.env`` then ``.env.local`` from ``cwd``, overridden by the real environment.

    The reference lets the files win over the environment; an operator who sets a
    variable on the command line expects it to count, so the environment wins here.
    """
    merged: dict[str, str] = {}
    for name in (".env", ".env.local"):
        path = cwd / name
        if path.is_file():
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(environ)
    return merged


def load_config(env: Mapping[str, str]) -> Config:
    """Parse and validate; raises :class:`ConfigError` listing every problem found."""
    reader = _Reader(env)
    config = reader.build()
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.problems: list[str] = []

    def build(self) -> Config:
        database_url = self._optional("DATABASE_URL")
        max_file_size = self._int("MAX_FILE_SIZE", 53_687_091_200, low=1)
        large_threshold = self._int("LARGE_FILE_THRESHOLD", 5_368_709_120, low=1)
        if large_threshold > max_file_size:
            self.problems.append("LARGE_FILE_THRESHOLD must be less than or equal to MAX_FILE_SIZE")
        return Config(
            mode=self._choice("MODE", "all", MODES),
            port=self._port("PORT", 3000, low=1),
            metrics_port=self._port("METRICS_PORT", 0, low=0),
            base_url=self._url("BASE_URL", required=False),
            data_dir=Path(self._text("VYLUX_DATA_DIR", DEFAULT_DATA_DIR)),
            scratch_dir=_path_or_none(self._optional("VYLUX_SCRATCH_DIR")),
            database_url=self._database_url(database_url),
            redis_url=self._redis_url(),
            source_s3=self._s3("SOURCE"),
            media_s3=self._s3("MEDIA"),
            secrets=self._secrets(required=database_url is not None),
            worker_concurrency=self._int("WORKER_CONCURRENCY", 10, low=1),
            large_worker_concurrency=self._int("LARGE_WORKER_CONCURRENCY", 1, low=1),
            worker_metrics_port=self._port("WORKER_METRICS_PORT", 3001, low=0),
            large_file_threshold=large_threshold,
            max_file_size=max_file_size,
            cache_max_size=self._int("CACHE_MAX_SIZE", 1 << 30, low=None),
            image_max_source_bytes=self._int("IMAGE_MAX_SOURCE_BYTES", 50 << 20, low=1),
            image_source_bytes_in_flight=self._int(
                "IMAGE_SOURCE_BYTES_IN_FLIGHT", 256 << 20, low=1
            ),
            image_budget_wait=self._duration("IMAGE_BUDGET_WAIT", "10s"),
            image_max_pixels=self._int("IMAGE_MAX_PIXELS", 100_000_000, low=1),
            image_max_result_pixels=self._int(
                "IMAGE_MAX_RESULT_PIXELS", DEFAULT_MAX_RESULT_PIXELS, low=1
            ),
            image_max_upscale=self._int("IMAGE_MAX_UPSCALE", DEFAULT_MAX_UPSCALE, low=1),
            ffmpeg_path=self._optional("FFMPEG_PATH"),
            ffprobe_path=self._optional("FFPROBE_PATH"),
            shaka_packager_path=self._optional("SHAKA_PACKAGER_PATH"),
            shutdown_timeout=self._duration("SHUTDOWN_TIMEOUT", "30s"),
            body_read_timeout=self._positive_duration(
                "BODY_READ_TIMEOUT", f"{DEFAULT_BODY_READ_TIMEOUT:g}s"
            ),
            worker_shutdown_timeout=self._duration("WORKER_SHUTDOWN_TIMEOUT", "10m"),
            worker_lease_timeout=self._lease_timeout(),
            reconcile_interval=self._positive_duration("RECONCILE_INTERVAL", "60s"),
            reconcile_grace=self._duration("RECONCILE_GRACE", "30s"),
            log_level=self._log_level(),
            log_format=self._choice("LOG_FORMAT", "json", LOG_FORMATS),
            access_log=self._bool("ACCESS_LOG", False),
            otel_endpoint=self._otel_endpoint(),
            allow_private_callbacks=self._bool("ALLOW_PRIVATE_CALLBACKS", False),
            cors_allowed_origins=self._origins("CORS_ALLOWED_ORIGINS", ""),
            stream_cors_allowed_origins=self._origins("STREAM_CORS_ALLOWED_ORIGINS", "*"),
            # On by default in the embedded profile (one operator, one machine).
            dashboard_enabled=self._bool("DASHBOARD_ENABLED", database_url is None),
            imgproxy=self._imgproxy(embedded=database_url is None),
        )

    # --- primitives ---------------------------------------------------------------

    def _optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def _text(self, name: str, default: str) -> str:
        return self._optional(name) or default

    def _int(self, name: str, default: int, *, low: int | None) -> int:
        raw = self._optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be an integer, got {raw!r}")
            return default
        if low is not None and value < low:
            self.problems.append(f"{name} must be at least {low}")
        return value

    def _port(self, name: str, default: int, *, low: int) -> int:
        value = self._int(name, default, low=None)
        if not low <= value <= 65535:
            self.problems.append(f"{name} must be between {low} and 65535")
        return value

    def _bool(self, name: str, default: bool) -> bool:
        raw = self._optional(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{name} must be true or false, got {raw!r}")
        return default

    def _choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._text(name, default)
        if value not in choices:
            self.problems.append(f'{name} must be {"|".join(choices)}, got "{value}"')
        return value

    def _duration(self, name: str, default: str) -> float:
        raw = self._text(name, default)
        try:
            seconds = parse_go_duration(raw)
        except ValueError as exc:
            self.problems.append(f"{name}: {exc}")
            return parse_go_duration(default)
        if seconds < 0:
            self.problems.append(f"{name} must not be negative")
        return seconds

    def _positive_duration(self, name: str, default: str) -> float:
        seconds = self._duration(name, default)
        if seconds == 0:
            self.problems.append(f"{name} must be more than zero")
        return seconds

    def _lease_timeout(self) -> float:
        seconds = self._duration("WORKER_LEASE_TIMEOUT", "30s")
        if seconds < MIN_LEASE_SECONDS:
            self.problems.append(f"WORKER_LEASE_TIMEOUT must be at least {MIN_LEASE_SECONDS:g}s")
        return seconds

    def _log_level(self) -> str:
        level = self._text("LOG_LEVEL", "INFO").upper()
        return "WARN" if level == "WARNING" else level if level in LOG_LEVELS else "INFO"

    # --- URLs -----------------------------------------------------------------------

    def _url(self, name: str, *, required: bool) -> str:
        value = (self._optional(name) or "").rstrip("/")
        if not value:
            if required:
                self.problems.append(f"{name} is required")
            return ""
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https"):
            self.problems.append(f"{name} must use http:// or https://")
        elif not parts.hostname:
            self.problems.append(f"{name} must include a host")
        return value

    def _origins(self, name: str, default: str) -> tuple[str, ...]:
        # Compared byte for byte with the Origin header, which browsers serialise as
        # scheme://host[:port] in lower case. "*" alone means any origin, "none" no CORS;
        # empty or unset means the default, as for every other variable.
        text = self._text(name, default)
        origins = tuple(entry.strip() for entry in text.split(",") if entry.strip())
        if origins == ("none",):
            return ()
        if "*" in origins:
            if len(origins) > 1:
                self.problems.append(f'{name}: "*" cannot be combined with other origins')
            return ("*",)
        normalised = []
        for origin in origins:
            parts = urlsplit(origin.rstrip("/"))
            valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
            valid = valid and not (parts.path or parts.query or parts.fragment or parts.username)
            try:
                _ = parts.port  # a port that is not a number in 0-65535 raises
            except ValueError:
                valid = False
            if not valid:
                self.problems.append(
                    f"{name} entries must be origins like https://app.example.com[:port],"
                    f" got {origin!r}"
                )
                continue
            normalised.append(origin.rstrip("/").lower())
        return tuple(dict.fromkeys(normalised))

    def _database_url(self, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgres", "postgresql"):
            self.problems.append("DATABASE_URL must start with postgres:// or postgresql://")
        elif not parts.hostname:
            self.problems.append("DATABASE_URL must include a host")
        return value

    def _redis_url(self) -> str | None:
        value = self._optional("REDIS_URL")
        if value is None:
            return None
        parts = urlsplit(value)
        valid = parts.scheme in ("redis", "rediss") and bool(parts.hostname)
        valid = valid or (parts.scheme == "unix" and bool(parts.path))
        if not valid:
            self.problems.append("REDIS_URL must be a valid redis URL")
        return value

    def _otel_endpoint(self) -> str:
        value = (self._optional("OTEL_EXPORTER_OTLP_ENDPOINT") or "").rstrip("/")
        if not value or "://" in value:
            return self._url("OTEL_EXPORTER_OTLP_ENDPOINT", required=False) if value else ""
        if re.fullmatch(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:]+\](:\d{1,5})?", value) is None:
            self.problems.append(
                "OTEL_EXPORTER_OTLP_ENDPOINT without a scheme must be host[:port] only"
            )
        return value

    def _s3(self, role: str) -> S3Settings | None:
        names = {
            "endpoint": f"{role}_S3_ENDPOINT",
            "access_key": f"{role}_S3_ACCESS_KEY",
            "secret_key": f"{role}_S3_SECRET_KEY",
            "bucket": f"{role}_BUCKET",
        }
        if not any(self._optional(name) for name in names.values()):
            return None  # this role uses a local directory under VYLUX_DATA_DIR
        endpoint = self._url(names["endpoint"], required=True)
        for key in ("access_key", "secret_key", "bucket"):
            if self._optional(names[key]) is None:
                self.problems.append(f"{names[key]} is required when {role}_S3_* is configured")
        return S3Settings(
            endpoint=endpoint,
            access_key=self._text(names["access_key"], ""),
            secret_key=self._text(names["secret_key"], ""),
            region=self._text(f"{role}_S3_REGION", "auto"),
            bucket=self._text(names["bucket"], ""),
        )

    # --- imgproxy route family ---------------------------------------------------------

    def _imgproxy(self, *, embedded: bool) -> ImgproxyConfig | None:
        if not self._bool("IMGPROXY_ENABLED", embedded):
            return None
        prefix = self._text("IMGPROXY_PATH_PREFIX", "/imgproxy").rstrip("/")
        if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
            self.problems.append(
                "IMGPROXY_PATH_PREFIX must be a path like /imgproxy (letters, digits, ._~-)"
            )
        raw = {name: self._optional(name) for name in IMGPROXY_SECRET_BYTES}
        keys = self._text("IMGPROXY_KEY", "")
        salts = self._text("IMGPROXY_SALT", "")
        pairs: tuple[KeyPair, ...] = ()
        missing = [name for name, value in raw.items() if value is None]
        if missing and embedded:
            # The embedded start-up generates both (embedded_secrets); a bare
            # configuration without them simply leaves the route family off.
            return None
        if missing:
            self.problems.extend(
                f"{name} is required when IMGPROXY_ENABLED is true (generate with: openssl "
                f"rand -hex {IMGPROXY_SECRET_BYTES[name]})"
                for name in missing
            )
        else:
            try:
                pairs = parse_key_pairs(keys, salts)
            except ValueError as error:
                self.problems.append(str(error))
        size = self._int("IMGPROXY_SIGNATURE_SIZE", DEFAULT_SIGNATURE_SIZE, low=1)
        if size > DEFAULT_SIGNATURE_SIZE:
            self.problems.append(
                f"IMGPROXY_SIGNATURE_SIZE must be at most {DEFAULT_SIGNATURE_SIZE}"
            )
        presets: dict[str, tuple[str, ...]] = {}
        try:
            presets = parse_presets(self._text("IMGPROXY_PRESETS", ""))
        except (ValueError, InvalidImageOptions) as error:
            self.problems.append(f"IMGPROXY_PRESETS: {error}")
        return ImgproxyConfig(
            path_prefix=prefix,
            key_pairs=pairs,
            signature_size=size,
            allow_insecure=self._bool("IMGPROXY_ALLOW_INSECURE", False),
            presets=presets,
            only_presets=self._bool("IMGPROXY_ONLY_PRESETS", False),
            auto_avif=self._bool("IMGPROXY_AUTO_AVIF", True),
            auto_webp=self._bool("IMGPROXY_AUTO_WEBP", True),
            watermark_path=self._optional("IMGPROXY_WATERMARK_PATH"),
        )

    # --- secrets ---------------------------------------------------------------------

    def _secrets(self, *, required: bool) -> Secrets:
        values = {}
        for name, min_bytes in SECRET_MIN_BYTES.items():
            value = self._optional(name)
            if value is None:
                if required:
                    self.problems.append(
                        f"{name} is required (generate with: openssl rand -hex {min_bytes})"
                    )
                values[name] = ""
            elif name == "ENCRYPTION_KEY":
                values[name] = self._encryption_key(value)
            else:
                values[name] = self._hex_secret(name, value, min_bytes)
        return Secrets(
            hmac_secret=values["HMAC_SECRET"],
            api_key=values["API_KEY"],
            webhook_secret=values["WEBHOOK_SECRET"],
            key_token_secret=values["KEY_TOKEN_SECRET"],
            encryption_key=values["ENCRYPTION_KEY"],
        )

    def _hex_secret(self, name: str, value: str, min_bytes: int, *, exact: bool = False) -> str:
        # Messages give lengths only: a secret must never reach a log line.
        if _HEX.fullmatch(value) is None:
            self.problems.append(
                f"{name} is not valid hex (generate with: openssl rand -hex {min_bytes})"
            )
        elif exact and len(value) != 2 * min_bytes:
            self.problems.append(
                f"{name} must be exactly {2 * min_bytes} hex chars ({8 * min_bytes}-bit),"
                f" got {len(value)}"
            )
        elif len(value) < 2 * min_bytes:
            self.problems.append(
                f"{name} must be at least {2 * min_bytes} hex chars ({8 * min_bytes}-bit),"
                f" got {len(value)}"
            )
        return value

    def _encryption_key(self, value: str) -> str:
        # One 64-hex key (version v1, as in the reference) or a rotation list
        # "v2:<hex>,v1:<hex>" whose first entry wraps new keys.
        if "," not in value and ":" not in value:
            return self._hex_secret("ENCRYPTION_KEY", value, 32, exact=True)
        for entry in value.split(","):
            match = _KEK_ENTRY.fullmatch(entry.strip())
            if match is None:
                self.problems.append("ENCRYPTION_KEY entries must look like <version>:<64 hex>")
                continue
            self._hex_secret("ENCRYPTION_KEY", match.group(1), 32, exact=True)
        return value


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


def environment_with_defaults(cwd: Path | None = None) -> dict[str, str]:
    """The process environment merged with the ``.env`` files of ``cwd``."""
    return read_environment(os.environ, cwd or Path.cwd())
