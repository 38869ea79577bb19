"""Process-wide logging: JSON lines (or a console view), secrets masked.

Two steps, because ``cli()`` runs before the configuration is loaded:

1. :func:`configure_from_environment` (in ``cli()``): LOG_LEVEL / LOG_FORMAT straight
   from the environment and the ``.env`` files (the same sources the configuration
   reads), stdout or stderr by subcommand, and every secret already visible there
   registered for masking.
2. :func:`register_secrets` (once the configuration is loaded): adds what only the
   loaded configuration knows, such as the embedded profile's generated secrets.

Masking happens in a filter on the one handler every record reaches (the root's),
so it covers every library's records too, not just Vylux's own loggers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TextIO
from urllib.parse import unquote, urlsplit

from vylux_cli.config import (
    IMGPROXY_SECRET_BYTES,
    SECRET_MIN_BYTES,
    Config,
    environment_with_defaults,
)

# Imported where used: a tool command (`sign`, `key-token`) never loads hypercorn, rich's
# logging or OpenTelemetry just to set up logging.
if TYPE_CHECKING:
    from hypercorn.config import Config as HypercornConfig

REDACTED = "[redacted]"
# Long-running services log JSON lines to stdout, where supervisors collect them. Every other
# command logs to stderr: its stdout is its result (`curl "$(vylux-cli sign img …)"`),
# which a log line would corrupt; a command added later gets that safe default.
STDOUT_COMMANDS = frozenset({"serve", "work"})
# Tool commands print their result, not their progress: below WARNING only with -v.
TOOL_LEVEL = logging.WARNING
_VERBOSE_LEVELS = (logging.INFO, logging.DEBUG)  # -v, -vv
_TELEMETRY_PACKAGE = "vylux_adapters.telemetry"

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}
# Lines carry the names LOG_LEVEL accepts: WARN, not Python's WARNING.
_LEVEL_NAMES = {logging.WARNING: "WARN"}

# Libraries whose DEBUG/INFO output is either a flood (pyvips, botocore) or echoes
# request data (httpx logs every webhook URL; aiosqlite logs call results, which include
# wrapped keys). LOG_LEVEL=DEBUG is for Vylux's own diagnostics, so these stay at WARNING.
QUIET_LIBRARIES = (
    "aiosqlite",
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "httpx",
    "httpcore",
    "hpack",
    "pyvips",
    # Announces each of its plugins at INFO whenever a migration context starts.
    "alembic.runtime.plugins",
)

# A secret shorter than this is not masked: it would blank ordinary words all over the
# logs, and a value that short protects nothing anyway.
MIN_SECRET_LENGTH = 4

# Shapes that are secret whatever their value (each keeps its prefix for context).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Content keys in packager arguments: --keys label=...:key_id=<hex>:key=<hex>.
    (re.compile(r"(?<![A-Za-z0-9_])(key=)[0-9a-fA-F]{32}(?![0-9a-fA-F])"), r"\1" + REDACTED),
    # ffmpeg's CENC options, in case a command line carrying one is ever logged.
    (
        re.compile(r"((?:en|de)cryption_key[=\s]+)[0-9a-fA-F]{32}(?![0-9a-fA-F])", re.I),
        r"\1" + REDACTED,
    ),
    # Key-delivery tokens, in a header line or a headers dict.
    (re.compile(r"(Bearer\s+)[^\s'\",;}]+", re.I), r"\1" + REDACTED),
    # The API key header: "X-API-Key: v", "x-api-key=v" and "'x-api-key': 'v'".
    (re.compile(r"(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",;}]+", re.I), r"\1" + REDACTED),
    # Passwords in any URL (database, Redis, an S3 endpoint given with credentials).
    (
        re.compile(r"([a-z][a-z0-9+.-]*://[^\s:/@'\"]*:)[^\s@/'\"]+(@)", re.I),
        r"\1" + REDACTED + r"\2",
    ),
)


class Redactor:
    """Masks registered secret values and the secret-shaped patterns above."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._literal: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            fresh = {v for v in values if len(v) >= MIN_SECRET_LENGTH} - self._values
            if not fresh:
                return
            self._values |= fresh
            # Longest first, so a secret that contains another is masked whole. Case-
            # insensitive because hex secrets reach logs in either case.
            ordered = sorted(self._values, key=len, reverse=True)
            # One reference swap: a concurrent redact() sees the old or the new pattern.
            self._literal = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._literal = None

    def redact(self, text: str) -> str:
        literal = self._literal
        if literal is not None:
            text = literal.sub(REDACTED, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


# One per process, like the logging configuration it belongs to.
REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Renders each record's message with its args, masks it, and drops the args.

    Rendering first is what makes masking reliable: a secret can be in the format
    string, in an arg, or only appear once both are combined. The traceback is rendered
    and masked here too, so no formatter ever prints an unmasked one.
    """

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the caller
            # The args are left out: they could be the very thing to hide.
            message = f"{record.msg} [log args could not be formatted]"
        record.msg = self._redactor.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redactor.redact(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Stamps trace, span, job and task type on the record while still in the context
    that logged it (a formatter could run elsewhere, e.g. behind a queue handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.vylux_fields = _current_log_fields()
        return True


def _current_log_fields() -> dict[str, str]:
    # Spans and job contexts exist only once the telemetry adapters are loaded (by the
    # composition root); a tool command that never loads them has none to report.
    if _TELEMETRY_PACKAGE not in sys.modules:
        return {}
    from vylux_adapters.telemetry.log_context import current_log_fields

    return current_log_fields()


def _fields(record: logging.LogRecord) -> dict[str, str]:
    fields = getattr(record, "vylux_fields", None)
    return fields if isinstance(fields, dict) else _current_log_fields()


def _level_name(record: logging.LogRecord) -> str:
    return _LEVEL_NAMES.get(record.levelno, record.levelname)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (RFC 3339, UTC), level, logger, message, then the
    context fields that are set, then ``exc`` / ``stack`` when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": _rfc3339(record.created),
            "level": _level_name(record),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        # ensure_ascii=False: file names and messages stay readable; json still escapes
        # control characters, so a message can never break the one-line-per-record rule.
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class ConsoleFormatter(logging.Formatter):
    """``logger: message key=value…`` for RichHandler, which adds time and level."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.name}: {record.getMessage()}"
        fields = _fields(record)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + record.stack_info
        return text


def _rfc3339(created: float) -> str:
    stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class StandardStreamHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stdout`` (or ``sys.stderr``) is at emit time: test
    runners and click's CliRunner swap them, and a stream captured once would be a closed
    one later."""

    def __init__(self, stream: Literal["stdout", "stderr"] = "stdout") -> None:
        self._stream_name = stream
        super().__init__(self._current())

    def _current(self) -> TextIO:
        current: TextIO = getattr(sys, self._stream_name)
        return current

    def emit(self, record: logging.LogRecord) -> None:
        # Handler.handle holds the handler's lock around emit, so this is race-free.
        self.stream = self._current()
        super().emit(record)

    def flush(self) -> None:
        self.stream = self._current()
        super().flush()


def parse_level(name: str) -> int:
    """LOG_LEVEL as the configuration reads it: case-insensitive, unknown means INFO."""
    return _LEVELS.get(name.strip().upper(), logging.INFO)


def build_handler(fmt: str, stream: Literal["stdout", "stderr"] = "stdout") -> logging.Handler:
    handler: logging.Handler
    if fmt.strip().lower() == "console":
        from rich.console import Console
        from rich.logging import RichHandler

        # rich_tracebacks off: rich would render the traceback from the live exception
        # (locals, source lines) and bypass the masked text the filter prepared.
        handler = RichHandler(
            console=Console(stderr=stream == "stderr"),
            show_path=False,
            rich_tracebacks=False,
            markup=False,
        )
        handler.setFormatter(ConsoleFormatter())
    else:
        handler = StandardStreamHandler(stream)
        handler.setFormatter(JsonFormatter())
    # Context before masking, and both on the handler (not a logger): a logger's
    # filters do not see records that propagate up from its children.
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    return handler


_installed: logging.Handler | None = None


def configure_logging(
    level: str, fmt: str, *, stream: Literal["stdout", "stderr"] = "stdout"
) -> logging.Handler:
    """Install the one handler on the root logger (JSON unless ``fmt`` is ``console``)
    at ``level``; calling it again replaces the handler it installed.

    Handlers installed by someone else (a test runner's capture) are left alone.
    """
    global _installed
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
        _installed.close()
    _installed = build_handler(fmt, stream)
    root.addHandler(_installed)
    threshold = parse_level(level)
    root.setLevel(threshold)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(threshold, logging.WARNING))
    # Hypercorn's error log reaches this handler by propagation (see route_hypercorn_logs);
    # its access log stays off, and a stale handler on its loggers would print twice.
    for name in ("hypercorn.error", "hypercorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = name == "hypercorn.error"
    logging.getLogger("hypercorn.access").disabled = True
    return _installed


def route_hypercorn_logs(hypercorn_config: HypercornConfig) -> None:
    """Hypercorn's error log through the root handler; no access log.

    Given a logger, Hypercorn uses it as is; given ``"-"`` (its default) it would attach
    its own plain-text stderr handler, which neither formats nor masks.
    """
    hypercorn_config.errorlog = logging.getLogger("hypercorn.error")
    hypercorn_config.accesslog = None


def configure_from_environment(
    command: str | None, env: Mapping[str, str] | None = None, *, verbosity: int = 0
) -> None:
    """Basic set-up for ``cli()``: level and format from LOG_LEVEL / LOG_FORMAT of the
    environment and ``.env`` files, and the secrets found there registered.

    ``command`` is the subcommand about to run: see :data:`STDOUT_COMMANDS`. Tool
    commands log at WARNING and above unless ``verbosity`` (``-v``, ``-vv``) asks for
    INFO or DEBUG; the services log at LOG_LEVEL, which ``-v`` can only lower.
    """
    values = environment_with_defaults() if env is None else env
    service = command in STDOUT_COMMANDS
    configure_logging(
        logging.getLevelName(command_level(values.get("LOG_LEVEL", ""), service, verbosity)),
        values.get("LOG_FORMAT", ""),
        stream="stdout" if service else "stderr",
    )
    REDACTOR.add(secret_values(values))


def command_level(log_level: str, service: bool, verbosity: int) -> int:
    """The threshold for a command: LOG_LEVEL for services, WARNING for tools; each
    ``-v`` lowers it to INFO, then DEBUG."""
    configured = parse_level(log_level)
    if verbosity > 0:
        return min(configured, _VERBOSE_LEVELS[min(verbosity, len(_VERBOSE_LEVELS)) - 1])
    return configured if service else max(configured, TOOL_LEVEL)


def register_secrets(config: Config) -> None:
    """Mask every secret of the loaded configuration from now on.

    Needed besides :func:`configure_from_environment`: the embedded profile generates
    its secrets into ``secrets.env``, which only the loaded configuration knows.
    """
    secrets = config.secrets
    values = [
        secrets.hmac_secret,
        secrets.api_key,
        secrets.webhook_secret,
        secrets.key_token_secret,
        *encryption_key_values(secrets.encryption_key),
        *url_password_values(config.database_url or ""),
        *url_password_values(config.redis_url or ""),
    ]
    values += [s3.secret_key for s3 in (config.source_s3, config.media_s3) if s3 is not None]
    if config.imgproxy is not None:
        for pair in config.imgproxy.key_pairs:
            values += [pair.key.hex(), pair.salt.hex()]
    REDACTOR.add(values)


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The secret values named in a raw environment (same variables as the config)."""
    values = [env.get(name, "").strip() for name in SECRET_MIN_BYTES if name != "ENCRYPTION_KEY"]
    values += encryption_key_values(env.get("ENCRYPTION_KEY", ""))
    for name in IMGPROXY_SECRET_BYTES:
        values += [item.strip() for item in env.get(name, "").split(",")]
    values += [env.get(f"{role}_S3_SECRET_KEY", "").strip() for role in ("SOURCE", "MEDIA")]
    for name in ("DATABASE_URL", "REDIS_URL"):
        values += url_password_values(env.get(name, ""))
    return values


def encryption_key_values(value: str) -> list[str]:
    """The whole ENCRYPTION_KEY and each key of a ``v2:<hex>,v1:<hex>`` rotation list."""
    value = value.strip()
    return [value, *(entry.rpartition(":")[2].strip() for entry in value.split(","))]


def url_password_values(url: str) -> list[str]:
    """A URL's password as written and percent-decoded (either may reach a log)."""
    try:
        password = urlsplit(url.strip()).password
    except ValueError:  # not a URL the config accepts; nothing to take from it
        return []
    return [password, unquote(password)] if password else []
