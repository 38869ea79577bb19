"""The configuration reference: every environment variable ``config.py`` reads, declared once.

``docs/configuration.md`` embeds :func:`render_markdown` between two markers, and a test
checks both that this list matches the names ``config.py`` reads and that the page
holds the current rendering. Regenerate the page after changing either::

    python -m vylux_cli.config_reference --update docs/configuration.md

Without arguments the tables are printed to stdout (``python -m vylux_cli.config_reference
> tables.md``). This module only describes; ``config.py`` alone parses and validates.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from attrs import frozen

BEGIN_MARKER: Final = "<!-- BEGIN GENERATED: python -m vylux_cli.config_reference -->"
END_MARKER: Final = "<!-- END GENERATED -->"


@frozen
class Variable:
    """One environment variable. ``default`` is shown as written (empty: none)."""

    name: str
    default: str
    description: str
    group: str
    secret: bool = False


# Groups in the order the page shows them.
PROCESS: Final = "Process and profile"
DATABASE: Final = "Database and queue"
SOURCE_STORE: Final = "Source store (S3)"
MEDIA_STORE: Final = "Media store (S3)"
SECRETS: Final = "Secrets"
WORKER: Final = "Workers"
LIMITS: Final = "Limits and caches"
TOOLS: Final = "Media tools"
OBSERVABILITY: Final = "Logs and tracing"
IMGPROXY: Final = "imgproxy URL dialect"

GROUPS: Final = (
    PROCESS,
    DATABASE,
    SOURCE_STORE,
    MEDIA_STORE,
    SECRETS,
    WORKER,
    LIMITS,
    TOOLS,
    OBSERVABILITY,
    IMGPROXY,
)

_SECRET_NOTE = (
    " Required when `DATABASE_URL` is set; the embedded profile generates it once into "
    "`VYLUX_DATA_DIR/secrets.env`. Used as its literal text (not hex-decoded)."
)


def _s3_variables(role: str, group: str, what: str) -> tuple[Variable, ...]:
    return (
        Variable(
            f"{role}_S3_ENDPOINT",
            "",
            "S3 endpoint URL, `http://` or `https://` with a host (a trailing `/` is removed; "
            f"path-style addressing). Setting any of `{role}_S3_ENDPOINT`, "
            f"`{role}_S3_ACCESS_KEY`, `{role}_S3_SECRET_KEY` or `{role}_BUCKET` puts the "
            f"{role.lower()} store on S3, and then all four are required; with none of them it "
            f"is the local directory `VYLUX_DATA_DIR/{role.lower()}/`.",
            group,
        ),
        Variable(f"{role}_S3_ACCESS_KEY", "", "Access key id.", group, secret=True),
        Variable(f"{role}_S3_SECRET_KEY", "", "Secret access key.", group, secret=True),
        Variable(f"{role}_S3_REGION", "auto", "Signing region.", group),
        Variable(f"{role}_BUCKET", "", f"Bucket of the {role.lower()} store: {what}.", group),
    )


VARIABLES: Final[tuple[Variable, ...]] = (
    # --- process and profile ------------------------------------------------------------
    Variable(
        "MODE",
        "all",
        "`all`, `server` or `worker`. `server` makes `vylux-cli serve` run without the "
        "in-process worker (like `--no-worker`); `vylux-cli work` runs workers only, whatever "
        "the mode.",
        PROCESS,
    ),
    Variable(
        "PORT",
        "3000",
        "HTTP listener port of `vylux-cli serve`, 1–65535 (`--port` overrides it).",
        PROCESS,
    ),
    Variable(
        "METRICS_PORT",
        "0",
        "Port of a separate `/healthz` + `/metrics` listener of `vylux-cli serve`, "
        "0–65535. 0: `/metrics` is served on `PORT` with the API. Any other port: "
        "`/metrics` moves to this listener (bound to `--host`) and `PORT` answers it "
        "with 404, so publishing the API does not publish the metrics.",
        PROCESS,
    ),
    Variable(
        "BASE_URL",
        "",
        "Public origin of the service, `http://` or `https://` with a host; a trailing `/` is "
        "removed. Written into encrypted playlists as the key URI `BASE_URL/api/key/<hash>` "
        "(relative `/api/key/<hash>` when empty) and used by `vylux-cli sign` "
        "(default `http://127.0.0.1:PORT`). Set it before the first encrypted transcode: the "
        "URI is stored with the key.",
        PROCESS,
    ),
    Variable(
        "VYLUX_DATA_DIR",
        "./vylux-data",
        "Home of the embedded roles: `vylux.db` (SQLite) without `DATABASE_URL`, `source/` "
        "and `media/` without S3 settings, and `secrets.env` (mode 0600) without "
        "`DATABASE_URL`.",
        PROCESS,
    ),
    Variable(
        "VYLUX_SCRATCH_DIR",
        "",
        "Directory for the per-attempt work directories of video jobs (source copy, "
        "intermediate encodes, packaged output). Empty: the system temp directory "
        "(`TMPDIR`). A video attempt needs about 3× its source size free, plus 512 MiB.",
        PROCESS,
    ),
    Variable(
        "ALLOW_PRIVATE_CALLBACKS",
        "false",
        "`true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`). `true` lets `callback_url` "
        "point at loopback, private and link-local addresses: for development only.",
        PROCESS,
    ),
    Variable(
        "CORS_ALLOWED_ORIGINS",
        "",
        "Comma-separated origins (`https://app.example.com[:port]`) whose pages may call "
        "`/api/key/{hash}` and `/api/key/{hash}/clearkey` from the browser: preflights are "
        "answered and `Authorization`, `Content-Type` are allowed. `*` allows any origin. "
        "Empty: no CORS headers on the key routes (same-origin players only).",
        PROCESS,
    ),
    Variable(
        "STREAM_CORS_ALLOWED_ORIGINS",
        "*",
        "Origins whose pages may read `/stream/*` (playlists and segments): `*` for any "
        "(answered `Access-Control-Allow-Origin: *`, cacheable by a CDN), a comma-separated "
        "list of origins, or `none` for no CORS. `Range` is allowed and `Content-Range`, "
        "`Content-Length`, `Accept-Ranges` are exposed.",
        PROCESS,
    ),
    Variable(
        "DASHBOARD_ENABLED",
        "",
        "`true`/`false`: serve the operator dashboard at `/dashboard` (jobs with live "
        "progress, results, cancel and retry; it asks for `API_KEY`). Empty: on in the "
        "embedded profile (no `DATABASE_URL`), off otherwise.",
        PROCESS,
    ),
    # --- database and queue -----------------------------------------------------------
    Variable(
        "DATABASE_URL",
        "",
        "PostgreSQL, `postgres://` or `postgresql://` with a host. Unset: SQLite at "
        "`VYLUX_DATA_DIR/vylux.db` (the embedded profile). Setting it makes every secret "
        "required.",
        DATABASE,
        secret=True,
    ),
    Variable(
        "REDIS_URL",
        "",
        "`redis://` or `rediss://` with a host, or `unix://` with a path. Set: the queue and "
        "the rate limits live in Redis, shared by every process. Unset: the queue lives in "
        "the database and rate limits are counted per process.",
        DATABASE,
        secret=True,
    ),
    # --- object stores -------------------------------------------------------------------
    *_s3_variables("SOURCE", SOURCE_STORE, "the originals, which Vylux only reads"),
    *_s3_variables("MEDIA", MEDIA_STORE, "derived outputs and the `/img` cache"),
    # --- secrets --------------------------------------------------------------------------
    Variable(
        "HMAC_SECRET",
        "",
        "Key of the `/img`, `/original` and `/thumb` URL signatures; hex, at least 64 "
        "characters." + _SECRET_NOTE,
        SECRETS,
        secret=True,
    ),
    Variable(
        "API_KEY",
        "",
        "The `X-API-Key` of `/api/jobs*` and `/api/media/*`; hex, at least 64 characters."
        + _SECRET_NOTE,
        SECRETS,
        secret=True,
    ),
    Variable(
        "WEBHOOK_SECRET",
        "",
        "Key of the webhook signatures (`X-Signature`, `X-Vylux-Signature`); hex, at least 64 "
        "characters." + _SECRET_NOTE,
        SECRETS,
        secret=True,
    ),
    Variable(
        "KEY_TOKEN_SECRET",
        "",
        "Key of the bearer tokens of `GET /api/key/<hash>`; hex, at least 32 characters."
        + _SECRET_NOTE,
        SECRETS,
        secret=True,
    ),
    Variable(
        "ENCRYPTION_KEY",
        "",
        "Key-encryption key(s) wrapping the content keys (AES-256-GCM): exactly 64 hex "
        "characters (version `v1`), or a rotation list `v2:<64 hex>,v1:<64 hex>` whose first "
        "entry wraps new keys and all of which unwrap. Required when `DATABASE_URL` is set; "
        "generated once in the embedded profile.",
        SECRETS,
        secret=True,
    ),
    # --- workers --------------------------------------------------------------------------
    Variable(
        "WORKER_CONCURRENCY",
        "10",
        "Attempts the main pool runs at once, at least 1. It serves `critical` (weight 6) and "
        "`default` (weight 3).",
        WORKER,
    ),
    Variable(
        "LARGE_WORKER_CONCURRENCY",
        "1",
        "Attempts the `video:large` pool runs at once, at least 1.",
        WORKER,
    ),
    Variable(
        "WORKER_METRICS_PORT",
        "3001",
        "Port of the `/healthz` + `/metrics` listener of `vylux-cli work`, 0–65535; 0 "
        "disables it. It binds to `--host` (default `127.0.0.1`).",
        WORKER,
    ),
    Variable(
        "SHUTDOWN_TIMEOUT",
        "30s",
        "Go duration (`300ms`, `1m30s`). On SIGTERM/SIGINT the HTTP server gives in-flight "
        "requests this long, and pending `/img` cache writes get as long again.",
        WORKER,
    ),
    Variable(
        "WORKER_SHUTDOWN_TIMEOUT",
        "10m",
        "Go duration. On SIGTERM/SIGINT running job attempts get this long to finish; the "
        "rest go back to the queue without using up an attempt.",
        WORKER,
    ),
    Variable(
        "WORKER_LEASE_TIMEOUT",
        "30s",
        "Go duration, at least 3s. How long a running attempt's lease lasts without a "
        "heartbeat (sent every third of it): the tasks of a worker that died without "
        "shutting down (SIGKILL, OOM, lost host) are taken back within this plus 5 s and "
        "retried after the usual back-off; that counts as an attempt.",
        WORKER,
    ),
    Variable(
        "RECONCILE_INTERVAL",
        "60s",
        "Go duration, more than zero. How often the worker's reconciler compares the database "
        "with the queue and enqueues the jobs the queue does not hold (a wiped or restarted "
        "Redis, a submission made while Redis was down).",
        WORKER,
    ),
    Variable(
        "RECONCILE_GRACE",
        "30s",
        "Go duration. The reconciler leaves alone jobs changed more recently than this (their "
        "enqueue may still be in flight). Jobs the queue lost wait up to "
        "`RECONCILE_INTERVAL` + `RECONCILE_GRACE` before they run again.",
        WORKER,
    ),
    # --- limits -----------------------------------------------------------------------------
    Variable(
        "BODY_READ_TIMEOUT",
        "30s",
        "Go duration, more than zero. A request body (`POST /api/jobs`) must arrive whole "
        "within this long of the route starting to read it, however slowly it trickles "
        "in; later: 408 and the connection is closed.",
        LIMITS,
    ),
    Variable(
        "MAX_FILE_SIZE",
        "53687091200",
        "Largest source of `video:transcode`, `video:full` and `audio:transcode` in bytes "
        "(50 GiB), at least 1; larger sources are refused with 413 at submission.",
        LIMITS,
    ),
    Variable(
        "LARGE_FILE_THRESHOLD",
        "5368709120",
        "Sources of `video:transcode` / `video:full` / `audio:transcode` this large or larger "
        "(bytes, 5 GiB) go to the `video:large` queue with 2 retries instead of `default` "
        "with 3. At least 1 and at most `MAX_FILE_SIZE`.",
        LIMITS,
    ),
    Variable(
        "CACHE_MAX_SIZE",
        "1073741824",
        "Bytes of `/img` renditions kept in memory per process (1 GiB); 0 or less disables "
        "the memory cache (the media-store cache still works).",
        LIMITS,
    ),
    Variable(
        "IMAGE_MAX_SOURCE_BYTES",
        "52428800",
        "Largest image source of `/img` and `image:thumbnail` in bytes (50 MiB), at least 1. "
        "Larger: `/img` answers 422, the job fails without retries.",
        LIMITS,
    ),
    Variable(
        "IMAGE_SOURCE_BYTES_IN_FLIGHT",
        "268435456",
        "Bytes of `/img` sources held in memory at once per process (256 MiB), at least 1. "
        "Concurrent renders of one source share one copy; a render that does not fit waits "
        "`IMAGE_BUDGET_WAIT`, then gets 503 with `Retry-After`. A source larger than this "
        "budget is rendered alone.",
        LIMITS,
    ),
    Variable(
        "IMAGE_BUDGET_WAIT",
        "10s",
        "Go duration. How long an `/img` render waits for room in "
        "`IMAGE_SOURCE_BYTES_IN_FLIGHT` before answering 503 (its `Retry-After` is this, "
        "rounded up to whole seconds, at least 1).",
        LIMITS,
    ),
    Variable(
        "IMAGE_MAX_PIXELS",
        "100000000",
        "Largest decoded source in pixels (width × height × frames), at least 1 (a "
        "decompression-bomb guard); beyond it: 422 / a failed job.",
        LIMITS,
    ),
    Variable(
        "IMAGE_MAX_RESULT_PIXELS",
        "40000000",
        "Largest rendition of `/img` and `image:thumbnail` in pixels (width × height × "
        "frames, 40 MP), at least 1. A requested `w`×`h` beyond it: 400 / job refused at "
        "submission; a result beyond it that depends on the source: 422 / a failed job.",
        LIMITS,
    ),
    Variable(
        "IMAGE_MAX_UPSCALE",
        "32",
        "Largest enlargement of a source, as a linear factor on either axis (32: a 2×2 "
        "image may become 64×64), at least 1; beyond it: 422 / a failed job.",
        LIMITS,
    ),
    # --- media tools ---------------------------------------------------------------------------
    Variable(
        "FFMPEG_PATH",
        "",
        "`ffmpeg` executable. Empty: the one bundled with `imageio-ffmpeg`. A bare name is "
        "looked up on `PATH`; the worker refuses to start when it lacks a needed decoder, "
        "encoder or filter (docs/media.md).",
        TOOLS,
    ),
    Variable(
        "FFPROBE_PATH",
        "",
        "`ffprobe` executable; same rules as `FFMPEG_PATH`.",
        TOOLS,
    ),
    Variable(
        "SHAKA_PACKAGER_PATH",
        "",
        "Shaka Packager executable; same rules as `FFMPEG_PATH`.",
        TOOLS,
    ),
    # --- observability -------------------------------------------------------------------------
    Variable(
        "LOG_LEVEL",
        "INFO",
        "`DEBUG`, `INFO`, `WARN` (or `WARNING`), `ERROR`; case-insensitive, anything else "
        "means `INFO`.",
        OBSERVABILITY,
    ),
    Variable(
        "LOG_FORMAT",
        "json",
        "`json` (one object per line) or `console`.",
        OBSERVABILITY,
    ),
    Variable(
        "ACCESS_LOG",
        "false",
        "`true`: one INFO line per HTTP request of `vylux-cli serve` (logger "
        "`vylux.access`: method, path without the query, route template, status, "
        "duration, client address, request id; inside the request's trace).",
        OBSERVABILITY,
    ),
    Variable(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "",
        "Where spans go over OTLP/HTTP. Empty: not exported (trace ids still exist). "
        "`host[:port]`: HTTPS to `/v1/traces`; an `http(s)://` URL: that scheme, and its path "
        "(if any) instead of `/v1/traces`.",
        OBSERVABILITY,
    ),
    # --- imgproxy URL dialect (docs/images.md) ---------------------------------------------
    Variable(
        "IMGPROXY_ENABLED",
        "true (embedded), false (server)",
        "Serve imgproxy's URL dialect under `IMGPROXY_PATH_PREFIX`. A server profile "
        "that enables it must set `IMGPROXY_KEY` and `IMGPROXY_SALT`.",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_PATH_PREFIX",
        "/imgproxy",
        "Path prefix of the route family: `{prefix}/{signature}/{options}/plain/{source}`.",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_KEY",
        "",
        "imgproxy signature key, hex; several comma-separated for rotation (paired with "
        "`IMGPROXY_SALT` by position). The embedded profile generates one into "
        "`VYLUX_DATA_DIR/secrets.env`.",
        IMGPROXY,
        secret=True,
    ),
    Variable(
        "IMGPROXY_SALT",
        "",
        "imgproxy signature salt, hex; as many entries as `IMGPROXY_KEY`. Generated like it.",
        IMGPROXY,
        secret=True,
    ),
    Variable(
        "IMGPROXY_SIGNATURE_SIZE",
        "32",
        "Bytes of the HMAC-SHA256 kept in the signature (1–32), as imgproxy.",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_ALLOW_INSECURE",
        "false",
        "Accept `insecure` or `_` in place of a signature. Only for development.",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_PRESETS",
        "",
        "Named option sets, `name=opt:arg/opt:arg,name2=…`; a preset named `default` "
        "applies to every request.",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_ONLY_PRESETS",
        "false",
        "Treat every option segment as preset names (no raw options in URLs).",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_AUTO_AVIF",
        "true",
        "Without an explicit format, answer AVIF to clients whose `Accept` names "
        "`image/avif` (with `Vary: Accept`).",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_WATERMARK_PATH",
        "",
        "Source-store key of the image the `watermark` option lays over renditions "
        "(read once per process); without it `watermark` is a 400.",
        IMGPROXY,
    ),
    Variable(
        "IMGPROXY_AUTO_WEBP",
        "true",
        "Without an explicit format, answer WebP to clients whose `Accept` names "
        "`image/webp` (after AVIF).",
        IMGPROXY,
    ),
)


def variable_names() -> frozenset[str]:
    return frozenset(variable.name for variable in VARIABLES)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(variable: Variable) -> str:
    return f"`{variable.default}`" if variable.default else "—"


def render_markdown(variables: Sequence[Variable] = VARIABLES) -> str:
    """One table per group, in :data:`GROUPS` order; ends with a newline."""
    sections: list[str] = []
    for group in GROUPS:
        members = [variable for variable in variables if variable.group == group]
        if not members:
            continue
        lines = [
            f"### {group}",
            "",
            "| Variable | Default | Secret | Meaning |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{variable.name}` | {_default(variable)} | {'yes' if variable.secret else ''} "
            f"| {_cell(variable.description)} |"
            for variable in members
        ]
        sections.append("\n".join(lines))
    unknown = sorted({variable.group for variable in variables} - set(GROUPS))
    if unknown:
        raise ValueError(f"variables in unknown groups: {', '.join(unknown)}")
    return "\n\n".join(sections) + "\n"


def generated_section(document: str) -> str:
    """The text between the markers of ``document``; raises ValueError without them."""
    start = document.find(BEGIN_MARKER)
    end = document.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"markers not found: {BEGIN_MARKER} … {END_MARKER}")
    return document[start + len(BEGIN_MARKER) : end].strip("\n") + "\n"


def update_document(document: str) -> str:
    """``document`` with the text between the markers replaced by the current tables."""
    generated_section(document)  # validates the markers
    head, _, rest = document.partition(BEGIN_MARKER)
    _, _, tail = rest.partition(END_MARKER)
    return f"{head}{BEGIN_MARKER}\n{render_markdown()}{END_MARKER}{tail}"


def main(argv: Sequence[str]) -> int:
    if not argv:
        sys.stdout.write(render_markdown())
        return 0
    if len(argv) == 2 and argv[0] == "--update":
        path = Path(argv[1])
        path.write_text(update_document(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    sys.stderr.write("usage: python -m vylux_cli.config_reference [--update PATH]\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
