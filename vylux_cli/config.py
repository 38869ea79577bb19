"""Configuration from environment variables, read through the declarations of ``settings.py``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from attrs import field, frozen
from dotenv import dotenv_values

from vylux_adapters.http.contract_templates import overlapping_template
from vylux_adapters.http.settings import RateLimit
from vylux_cli import settings as s
from vylux_cli.go_duration import parse_go_duration
from vylux_cli.settings import Kind, S3Role, Setting
from vylux_core.errors import InvalidImageOptions
from vylux_core.imgproxy.options import parse_presets
from vylux_core.imgproxy.url import KeyPair, parse_key_pairs

# Secret name -> minimum bytes once hex-decoded.
SECRET_MIN_BYTES = {setting.name: setting.min_bytes for setting in s.SERVICE_SECRETS}
# Generated into the embedded profile's secrets.env, required by a server profile only
# when the imgproxy route family is enabled (hex bytes, as imgproxy reads them).
IMGPROXY_SECRET_BYTES = {setting.name: setting.min_bytes for setting in s.IMGPROXY_SECRETS}
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
    """Used as their literal text (HMAC keys), not hex-decoded; never logged."""

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
    max_body_bytes: int
    jobs_rate_limit: RateLimit
    key_rate_limit: RateLimit
    key_ip_rate_limit: RateLimit
    trusted_proxy_count: int
    callback_resolve_timeout: float
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

    An operator who sets a variable on the command line expects it to count, so the
    environment wins over the files (D23).
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
    """Reads each :class:`Setting` by its kind; every problem is collected, none raised."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.problems: list[str] = []

    def build(self) -> Config:
        database_url = self._optional(s.DATABASE_URL)
        embedded = database_url is None
        max_file_size = self._int(s.MAX_FILE_SIZE)
        large_threshold = self._int(s.LARGE_FILE_THRESHOLD)
        if large_threshold > max_file_size:
            self.problems.append("LARGE_FILE_THRESHOLD must be less than or equal to MAX_FILE_SIZE")
        return Config(
            mode=self._choice(s.MODE),
            port=self._int(s.PORT),
            metrics_port=self._int(s.METRICS_PORT),
            base_url=self._url(s.BASE_URL, required=False),
            data_dir=Path(self._text(s.VYLUX_DATA_DIR)),
            scratch_dir=_path_or_none(self._optional(s.VYLUX_SCRATCH_DIR)),
            database_url=self._database_url(database_url),
            redis_url=self._redis_url(),
            source_s3=self._s3(s.SOURCE_S3),
            media_s3=self._s3(s.MEDIA_S3),
            secrets=self._secrets(required=not embedded),
            worker_concurrency=self._int(s.WORKER_CONCURRENCY),
            large_worker_concurrency=self._int(s.LARGE_WORKER_CONCURRENCY),
            worker_metrics_port=self._int(s.WORKER_METRICS_PORT),
            large_file_threshold=large_threshold,
            max_file_size=max_file_size,
            cache_max_size=self._int(s.CACHE_MAX_SIZE),
            image_max_source_bytes=self._int(s.IMAGE_MAX_SOURCE_BYTES),
            image_source_bytes_in_flight=self._int(s.IMAGE_SOURCE_BYTES_IN_FLIGHT),
            image_budget_wait=self._duration(s.IMAGE_BUDGET_WAIT),
            image_max_pixels=self._int(s.IMAGE_MAX_PIXELS),
            image_max_result_pixels=self._int(s.IMAGE_MAX_RESULT_PIXELS),
            image_max_upscale=self._int(s.IMAGE_MAX_UPSCALE),
            ffmpeg_path=self._optional(s.FFMPEG_PATH),
            ffprobe_path=self._optional(s.FFPROBE_PATH),
            shaka_packager_path=self._optional(s.SHAKA_PACKAGER_PATH),
            shutdown_timeout=self._duration(s.SHUTDOWN_TIMEOUT),
            body_read_timeout=self._duration(s.BODY_READ_TIMEOUT),
            max_body_bytes=self._int(s.MAX_BODY_BYTES),
            jobs_rate_limit=self._rate_limit(s.JOBS_RATE_LIMIT, s.JOBS_RATE_WINDOW),
            key_rate_limit=self._rate_limit(s.KEY_RATE_LIMIT, s.KEY_RATE_WINDOW),
            key_ip_rate_limit=self._rate_limit(s.KEY_IP_RATE_LIMIT, s.KEY_IP_RATE_WINDOW),
            trusted_proxy_count=self._int(s.TRUSTED_PROXY_COUNT),
            callback_resolve_timeout=self._duration(s.CALLBACK_RESOLVE_TIMEOUT),
            worker_shutdown_timeout=self._duration(s.WORKER_SHUTDOWN_TIMEOUT),
            worker_lease_timeout=self._duration(s.WORKER_LEASE_TIMEOUT),
            reconcile_interval=self._duration(s.RECONCILE_INTERVAL),
            reconcile_grace=self._duration(s.RECONCILE_GRACE),
            log_level=self._log_level(),
            log_format=self._choice(s.LOG_FORMAT),
            access_log=self._bool(s.ACCESS_LOG, embedded=embedded),
            otel_endpoint=self._otel_endpoint(),
            allow_private_callbacks=self._bool(s.ALLOW_PRIVATE_CALLBACKS, embedded=embedded),
            cors_allowed_origins=self._origins(s.CORS_ALLOWED_ORIGINS),
            stream_cors_allowed_origins=self._origins(s.STREAM_CORS_ALLOWED_ORIGINS),
            dashboard_enabled=self._bool(s.DASHBOARD_ENABLED, embedded=embedded),
            imgproxy=self._imgproxy(embedded=embedded),
        )

    # --- primitives ---------------------------------------------------------------

    def _optional(self, setting: Setting) -> str | None:
        value = self._env.get(setting.name, "").strip()
        return value or None

    def _text(self, setting: Setting) -> str:
        return self._optional(setting) or setting.default

    def _int(self, setting: Setting) -> int:
        assert setting.kind in (Kind.INT, Kind.PORT), setting.name
        name, low, high = setting.name, setting.low, setting.high
        default = int(setting.default)
        raw = self._optional(setting)
        value = default
        if raw is not None:
            try:
                value = int(raw)
            except ValueError:
                self.problems.append(f"{name} must be an integer, got {raw!r}")
                value = default
                if setting.kind is Kind.INT:
                    return value
        if setting.kind is Kind.PORT:
            if not (low or 0) <= value <= (high or s.MAX_PORT):
                self.problems.append(f"{name} must be between {low} and {high}")
            return value
        if low is not None and value < low:
            self.problems.append(f"{name} must be at least {low}")
        if high is not None and value > high:
            self.problems.append(f"{name} must be at most {high}")
        return value

    def _bool(self, setting: Setting, *, embedded: bool) -> bool:
        assert setting.kind is Kind.BOOL, setting.name
        if setting.profile_default is not None:
            default = setting.profile_default[0 if embedded else 1]
        else:
            default = _parse_bool(setting.default) is True
        raw = self._optional(setting)
        if raw is None:
            return default
        value = _parse_bool(raw)
        if value is None:
            self.problems.append(f"{setting.name} must be true or false, got {raw!r}")
            return default
        return value

    def _choice(self, setting: Setting) -> str:
        value = self._text(setting)
        if value not in setting.choices:
            self.problems.append(
                f'{setting.name} must be {"|".join(setting.choices)}, got "{value}"'
            )
        return value

    def _duration(self, setting: Setting) -> float:
        assert setting.kind is Kind.DURATION, setting.name
        name = setting.name
        raw = self._text(setting)
        try:
            seconds = parse_go_duration(raw)
        except ValueError as exc:
            self.problems.append(f"{name}: {exc}")
            return parse_go_duration(setting.default)
        if seconds < 0:
            self.problems.append(f"{name} must not be negative")
        if setting.positive and seconds == 0:
            self.problems.append(f"{name} must be more than zero")
        if setting.low is not None and seconds < setting.low:
            self.problems.append(f"{name} must be at least {setting.low:g}s")
        return seconds

    def _rate_limit(self, limit: Setting, window: Setting) -> RateLimit:
        requests = self._int(limit)
        seconds = self._duration(window)
        if seconds != int(seconds):
            self.problems.append(f"{window.name} must be whole seconds")
        return RateLimit(limit=max(requests, 1), window_seconds=max(int(seconds), 1))

    def _log_level(self) -> str:
        level = self._text(s.LOG_LEVEL).upper()
        if level == "WARNING":
            return "WARN"
        return level if level in s.LOG_LEVEL.choices else s.LOG_LEVEL.default

    # --- URLs -----------------------------------------------------------------------

    def _url(self, setting: Setting, *, required: bool) -> str:
        name = setting.name
        value = (self._optional(setting) or "").rstrip("/")
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

    def _origins(self, setting: Setting) -> tuple[str, ...]:
        # Compared byte for byte with the Origin header, which browsers serialise as
        # scheme://host[:port] in lower case. "*" alone means any origin, "none" no CORS;
        # empty or unset means the default, as for every other variable.
        name = setting.name
        text = self._text(setting)
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
        value = self._optional(s.REDIS_URL)
        if value is None:
            return None
        parts = urlsplit(value)
        valid = parts.scheme in ("redis", "rediss") and bool(parts.hostname)
        valid = valid or (parts.scheme == "unix" and bool(parts.path))
        if not valid:
            self.problems.append("REDIS_URL must be a valid redis URL")
        return value

    def _otel_endpoint(self) -> str:
        value = (self._optional(s.OTEL_EXPORTER_OTLP_ENDPOINT) or "").rstrip("/")
        if not value or "://" in value:
            return self._url(s.OTEL_EXPORTER_OTLP_ENDPOINT, required=False) if value else ""
        if re.fullmatch(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:]+\](:\d{1,5})?", value) is None:
            self.problems.append(
                "OTEL_EXPORTER_OTLP_ENDPOINT without a scheme must be host[:port] only"
            )
        return value

    def _s3(self, role: S3Role) -> S3Settings | None:
        if not any(self._optional(setting) for setting in role.enabling):
            return None  # this role uses a local directory under VYLUX_DATA_DIR
        endpoint = self._url(role.endpoint, required=True)
        for setting in (role.access_key, role.secret_key, role.bucket):
            if self._optional(setting) is None:
                self.problems.append(
                    f"{setting.name} is required when {role.role}_S3_* is configured"
                )
        return S3Settings(
            endpoint=endpoint,
            access_key=self._text(role.access_key),
            secret_key=self._text(role.secret_key),
            region=self._text(role.region),
            bucket=self._text(role.bucket),
        )

    # --- imgproxy route family ---------------------------------------------------------

    def _imgproxy(self, *, embedded: bool) -> ImgproxyConfig | None:
        if not self._bool(s.IMGPROXY_ENABLED, embedded=embedded):
            return None
        prefix = self._text(s.IMGPROXY_PATH_PREFIX).rstrip("/")
        if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
            self.problems.append(
                "IMGPROXY_PATH_PREFIX must be a path like /imgproxy (letters, digits, ._~-)"
            )
        elif (taken := overlapping_template(prefix)) is not None:
            self.problems.append(
                f"IMGPROXY_PATH_PREFIX {prefix} would take paths of the service's own route {taken}"
            )
        raw = {setting.name: self._optional(setting) for setting in s.IMGPROXY_SECRETS}
        keys = self._text(s.IMGPROXY_KEY)
        salts = self._text(s.IMGPROXY_SALT)
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
        size = self._int(s.IMGPROXY_SIGNATURE_SIZE)
        presets: dict[str, tuple[str, ...]] = {}
        try:
            presets = parse_presets(self._text(s.IMGPROXY_PRESETS))
        except (ValueError, InvalidImageOptions) as error:
            self.problems.append(f"IMGPROXY_PRESETS: {error}")
        return ImgproxyConfig(
            path_prefix=prefix,
            key_pairs=pairs,
            signature_size=size,
            allow_insecure=self._bool(s.IMGPROXY_ALLOW_INSECURE, embedded=embedded),
            presets=presets,
            only_presets=self._bool(s.IMGPROXY_ONLY_PRESETS, embedded=embedded),
            auto_avif=self._bool(s.IMGPROXY_AUTO_AVIF, embedded=embedded),
            auto_webp=self._bool(s.IMGPROXY_AUTO_WEBP, embedded=embedded),
            watermark_path=self._optional(s.IMGPROXY_WATERMARK_PATH),
        )

    # --- secrets ---------------------------------------------------------------------

    def _secrets(self, *, required: bool) -> Secrets:
        values = {}
        for setting in s.SERVICE_SECRETS:
            name, min_bytes = setting.name, setting.min_bytes
            value = self._optional(setting)
            if value is None:
                if required:
                    self.problems.append(
                        f"{name} is required (generate with: openssl rand -hex {min_bytes})"
                    )
                values[setting] = ""
            elif setting is s.ENCRYPTION_KEY:
                values[setting] = self._encryption_key(value)
            else:
                values[setting] = self._hex_secret(name, value, min_bytes)
        return Secrets(
            hmac_secret=values[s.HMAC_SECRET],
            api_key=values[s.API_KEY],
            webhook_secret=values[s.WEBHOOK_SECRET],
            key_token_secret=values[s.KEY_TOKEN_SECRET],
            encryption_key=values[s.ENCRYPTION_KEY],
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
        # One 64-hex key (version v1) or a rotation list
        # "v2:<hex>,v1:<hex>" whose first entry wraps new keys.
        key_bytes = s.ENCRYPTION_KEY.min_bytes
        if "," not in value and ":" not in value:
            return self._hex_secret(s.ENCRYPTION_KEY.name, value, key_bytes, exact=True)
        for entry in value.split(","):
            match = _KEK_ENTRY.fullmatch(entry.strip())
            if match is None:
                self.problems.append("ENCRYPTION_KEY entries must look like <version>:<64 hex>")
                continue
            self._hex_secret(s.ENCRYPTION_KEY.name, match.group(1), key_bytes, exact=True)
        return value


def _parse_bool(text: str) -> bool | None:
    """The boolean ``text`` spells, or None when it spells none."""
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    return None


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


def environment_with_defaults(cwd: Path | None = None) -> dict[str, str]:
    """The process environment merged with the ``.env`` files of ``cwd``."""
    return read_environment(os.environ, cwd or Path.cwd())
