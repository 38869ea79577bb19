"""Every environment variable Vylux reads, declared once.

Each :class:`Setting` holds a variable's name, type, default, bounds, secret flag and
help text. ``config.py`` parses the environment from these declarations, and
``config_reference.py`` renders them into ``docs/configuration.md`` and ``.env.example``
(a test fails when either file is stale). Defaults that the core or an adapter also
needs come from that module's named constant.
"""

from __future__ import annotations

import enum
from typing import Final

from attrs import frozen

from vylux_adapters.http.settings import (
    DEFAULT_BODY_READ_TIMEOUT,
    DEFAULT_JOBS_RATE_LIMIT,
    DEFAULT_KEY_IP_RATE_LIMIT,
    DEFAULT_KEY_RATE_LIMIT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_STREAM_CORS_ALLOWED_ORIGINS,
    DEFAULT_TRUSTED_PROXY_COUNT,
)
from vylux_adapters.worker.timing import DEFAULT_LEASE_SECONDS, DEFAULT_SHUTDOWN_TIMEOUT
from vylux_core.images.limits import (
    DEFAULT_BUDGET_WAIT_SECONDS,
    DEFAULT_MAX_SOURCE_BYTES,
    DEFAULT_MAX_SOURCE_PIXELS,
    DEFAULT_SOURCE_BYTES_IN_FLIGHT,
)
from vylux_core.images.result_budget import DEFAULT_MAX_RESULT_PIXELS, DEFAULT_MAX_UPSCALE
from vylux_core.imgproxy.url import DEFAULT_PATH_PREFIX, DEFAULT_SIGNATURE_SIZE
from vylux_core.jobs.limits import DEFAULT_LARGE_FILE_THRESHOLD, DEFAULT_MAX_FILE_SIZE
from vylux_core.webhooks.callback_policy import RESOLVE_TIMEOUT_SECONDS
from vylux_core.worker.reconcile_schedule import (
    DEFAULT_RECONCILE_GRACE,
    DEFAULT_RECONCILE_INTERVAL,
)

MAX_PORT: Final = 65535


class Kind(enum.Enum):
    """How a variable's text is read; the value names the type in the configuration reference."""

    TEXT = "text"
    INT = "integer"
    PORT = "port"
    BOOL = "boolean"
    DURATION = "duration"
    CHOICE = "choice"
    URL = "URL"
    ORIGINS = "origins"
    HEX_SECRET = "hex"
    KEY_LIST = "hex list"
    PRESETS = "presets"
    PATH = "path"


@frozen
class Group:
    """A section of the configuration reference. ``env_note`` heads it in ``.env.example``."""

    title: str
    env_note: str


@frozen(kw_only=True)
class Setting:
    """One environment variable.

    ``default`` is written as the variable would be (``"30s"``, ``"true"``); empty means
    none. ``profile_default`` replaces it for booleans whose default depends on the
    profile: (embedded, server). ``low``/``high`` bound integers and ports (inclusive);
    for durations ``low`` is the least number of seconds and ``positive`` refuses zero.
    ``min_bytes`` is the least hex-decoded size of a secret (and the size generated for
    it). ``help`` is the configuration reference's Markdown text; ``env_help`` the one-line
    comment of ``.env.example``.
    """

    name: str
    kind: Kind
    group: Group
    help: str
    env_help: str
    default: str = ""
    profile_default: tuple[bool, bool] | None = None
    low: int | None = None
    high: int | None = None
    positive: bool = False
    choices: tuple[str, ...] = ()
    secret: bool = False
    min_bytes: int = 0


def _seconds(value: float) -> str:
    """A number of seconds as a Go duration in its largest whole unit (``30s``, ``10m``)."""
    for unit, size in (("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{value / size:g}{unit}"
    return f"{value:g}s"


PROCESS: Final = Group("Process and profile", "Process")
DATABASE: Final = Group("Database and queue", "Database and queue")
SOURCE_STORE: Final = Group(
    "Source store (S3)", "Source store (read-only originals); all empty = VYLUX_DATA_DIR/source"
)
MEDIA_STORE: Final = Group(
    "Media store (S3)",
    "Media store (derived outputs, /img cache); all empty = VYLUX_DATA_DIR/media",
)
SECRETS: Final = Group(
    "Secrets", "Secrets: required with DATABASE_URL; the embedded profile generates missing ones"
)
WORKER: Final = Group("Workers", "Worker")
LIMITS: Final = Group("Limits and caches", "Limits and caches")
HTTP: Final = Group("HTTP rate limits and proxies", "HTTP rate limits and proxies")
TOOLS: Final = Group("Media tools", "Media tools")
OBSERVABILITY: Final = Group("Logs and tracing", "Logs and tracing")
IMGPROXY: Final = Group("imgproxy URL dialect", "imgproxy URL dialect (docs/images.md)")

GROUPS: Final = (
    PROCESS,
    DATABASE,
    SOURCE_STORE,
    MEDIA_STORE,
    SECRETS,
    WORKER,
    LIMITS,
    HTTP,
    TOOLS,
    OBSERVABILITY,
    IMGPROXY,
)

# --- process and profile ------------------------------------------------------------------

MODE: Final = Setting(
    name="MODE",
    kind=Kind.CHOICE,
    group=PROCESS,
    default="all",
    choices=("all", "server", "worker"),
    help="`server` makes `vylux-cli serve` run without the in-process worker (like "
    "`--no-worker`); `vylux-cli work` runs workers only, whatever the mode.",
    env_help="all = HTTP server and worker in one process; server or worker for one role only.",
)
PORT: Final = Setting(
    name="PORT",
    kind=Kind.PORT,
    group=PROCESS,
    default="3000",
    low=1,
    high=MAX_PORT,
    help="HTTP listener port of `vylux-cli serve` (`--port` overrides it).",
    env_help="Port of the HTTP listener (serve --port overrides it).",
)
METRICS_PORT: Final = Setting(
    name="METRICS_PORT",
    kind=Kind.PORT,
    group=PROCESS,
    default="0",
    low=0,
    high=MAX_PORT,
    help="Port of a separate `/healthz` + `/metrics` listener of `vylux-cli serve`. "
    "0: `/metrics` is served on `PORT` with the API. Any other port: "
    "`/metrics` moves to this listener (bound to `--host`) and `PORT` answers it "
    "with 404, so publishing the API does not publish the metrics.",
    env_help="Separate /healthz + /metrics listener of serve; 0 = /metrics on PORT with the API.",
)
BASE_URL: Final = Setting(
    name="BASE_URL",
    kind=Kind.URL,
    group=PROCESS,
    help="Public origin of the service, `http://` or `https://` with a host; a trailing `/` is "
    "removed. Written into encrypted playlists as the key URI `BASE_URL/api/key/<hash>` "
    "(relative `/api/key/<hash>` when empty) and used by `vylux-cli sign` "
    "(default `http://127.0.0.1:PORT`). Set it before the first encrypted transcode: the "
    "URI is stored with the key.",
    env_help="Public origin, e.g. https://media.example.com; key URIs in HLS playlists use it.",
)
VYLUX_DATA_DIR: Final = Setting(
    name="VYLUX_DATA_DIR",
    kind=Kind.PATH,
    group=PROCESS,
    default="./vylux-data",
    help="Home of the embedded roles: `vylux.db` (SQLite) without `DATABASE_URL`, `source/` "
    "and `media/` without S3 settings, and `secrets.env` (mode 0600) without "
    "`DATABASE_URL`.",
    env_help="Embedded profile (no DATABASE_URL): SQLite, local stores and generated secrets here.",
)
VYLUX_SCRATCH_DIR: Final = Setting(
    name="VYLUX_SCRATCH_DIR",
    kind=Kind.PATH,
    group=PROCESS,
    help="Directory for the per-attempt work directories of video jobs (source copy, "
    "intermediate encodes, packaged output). Empty: the system temp directory "
    "(`TMPDIR`). A video attempt needs about 3× its source size free, plus 512 MiB.",
    env_help="Scratch disk for video jobs; empty = the system temp directory "
    "(the image sets /var/cache/vylux).",
)
ALLOW_PRIVATE_CALLBACKS: Final = Setting(
    name="ALLOW_PRIVATE_CALLBACKS",
    kind=Kind.BOOL,
    group=PROCESS,
    default="false",
    help="`true` lets `callback_url` point at loopback, private and link-local addresses: "
    "for development only.",
    env_help="Allow webhook callbacks to private and loopback addresses (development only).",
)
CORS_ALLOWED_ORIGINS: Final = Setting(
    name="CORS_ALLOWED_ORIGINS",
    kind=Kind.ORIGINS,
    group=PROCESS,
    help="Comma-separated origins (`https://app.example.com[:port]`) whose pages may call "
    "`/api/key/{hash}` and `/api/key/{hash}/clearkey` from the browser: preflights are "
    "answered and `Authorization`, `Content-Type` are allowed. `*` allows any origin. "
    "Empty: no CORS headers on the key routes (same-origin players only).",
    env_help="Browser origins allowed to call /api/key/* (comma-separated, or * for any); "
    "empty: none.",
)
STREAM_CORS_ALLOWED_ORIGINS: Final = Setting(
    name="STREAM_CORS_ALLOWED_ORIGINS",
    kind=Kind.ORIGINS,
    group=PROCESS,
    default=",".join(DEFAULT_STREAM_CORS_ALLOWED_ORIGINS),
    help="Origins whose pages may read `/stream/*` (playlists and segments): `*` for any "
    "(answered `Access-Control-Allow-Origin: *`, cacheable by a CDN), a comma-separated "
    "list of origins, or `none` for no CORS. `Range` is allowed and `Content-Range`, "
    "`Content-Length`, `Accept-Ranges` are exposed.",
    env_help="Browser origins allowed to read /stream/*: * (any), a comma-separated list, or none.",
)
DASHBOARD_ENABLED: Final = Setting(
    name="DASHBOARD_ENABLED",
    kind=Kind.BOOL,
    group=PROCESS,
    # On by default in the embedded profile (one operator, one machine).
    profile_default=(True, False),
    help="Serve the operator dashboard at `/dashboard` (jobs with live progress, results, "
    "cancel and retry; it asks for `API_KEY`).",
    env_help="Operator dashboard at /dashboard: true/false; empty = on without DATABASE_URL, "
    "else off.",
)

# --- database and queue -------------------------------------------------------------------

DATABASE_URL: Final = Setting(
    name="DATABASE_URL",
    kind=Kind.URL,
    group=DATABASE,
    secret=True,
    help="PostgreSQL, `postgres://` or `postgresql://` with a host. Unset: SQLite at "
    "`VYLUX_DATA_DIR/vylux.db` (the embedded profile). Setting it makes every secret "
    "required.",
    env_help="postgres:// or postgresql:// URL; empty = embedded SQLite under VYLUX_DATA_DIR.",
)
REDIS_URL: Final = Setting(
    name="REDIS_URL",
    kind=Kind.URL,
    group=DATABASE,
    secret=True,
    help="`redis://` or `rediss://` with a host, or `unix://` with a path. Set: the queue and "
    "the rate limits live in Redis, shared by every process. Unset: the queue lives in "
    "the database and rate limits are counted per process.",
    env_help="redis://, rediss:// or unix:// URL for the queue and rate limits; "
    "empty = SQL queue, in-memory limits.",
)

# --- object stores -------------------------------------------------------------------------


@frozen
class S3Role:
    """The five variables of one S3 store; setting any of the first four enables it."""

    role: str
    endpoint: Setting
    access_key: Setting
    secret_key: Setting
    region: Setting
    bucket: Setting

    @property
    def enabling(self) -> tuple[Setting, ...]:
        return (self.endpoint, self.access_key, self.secret_key, self.bucket)

    @property
    def settings(self) -> tuple[Setting, ...]:
        return (self.endpoint, self.access_key, self.secret_key, self.region, self.bucket)


def _s3_role(role: str, group: Group, what: str, *, extra: str = "") -> S3Role:
    required = f" (required once any {role}_S3_* is set)"
    return S3Role(
        role=role,
        endpoint=Setting(
            name=f"{role}_S3_ENDPOINT",
            kind=Kind.URL,
            group=group,
            help="S3 endpoint URL, `http://` or `https://` with a host (a trailing `/` is "
            f"removed; path-style addressing). Setting any of `{role}_S3_ENDPOINT`, "
            f"`{role}_S3_ACCESS_KEY`, `{role}_S3_SECRET_KEY` or `{role}_BUCKET` puts the "
            f"{role.lower()} store on S3, and then all four are required; with none of them "
            f"it is the local directory `VYLUX_DATA_DIR/{role.lower()}/`.",
            env_help=f"http(s) URL of the S3 endpoint{extra}.",
        ),
        access_key=Setting(
            name=f"{role}_S3_ACCESS_KEY",
            kind=Kind.TEXT,
            group=group,
            secret=True,
            help="Access key id.",
            env_help=f"Access key id{required}.",
        ),
        secret_key=Setting(
            name=f"{role}_S3_SECRET_KEY",
            kind=Kind.TEXT,
            group=group,
            secret=True,
            help="Secret access key.",
            env_help=f"Secret access key{required}.",
        ),
        region=Setting(
            name=f"{role}_S3_REGION",
            kind=Kind.TEXT,
            group=group,
            default="auto",
            help="Signing region.",
            env_help='Signing region; "auto" suits R2 and SeaweedFS.',
        ),
        bucket=Setting(
            name=f"{role}_BUCKET",
            kind=Kind.TEXT,
            group=group,
            help=f"Bucket of the {role.lower()} store: {what}.",
            env_help=f"Bucket of the {role.lower()} store{required}.",
        ),
    )


SOURCE_S3: Final = _s3_role("SOURCE", SOURCE_STORE, "the originals, which Vylux only reads")
MEDIA_S3: Final = _s3_role(
    "MEDIA",
    MEDIA_STORE,
    "derived outputs and the `/img` cache",
    extra=" (no fallback to the source settings)",
)

# --- secrets -------------------------------------------------------------------------------

_SECRET_NOTE = (
    " Required when `DATABASE_URL` is set; the embedded profile generates it once into "
    "`VYLUX_DATA_DIR/secrets.env`. Used as its literal text (not hex-decoded)."
)
# compose.yaml refuses to start without these (tests/unit/test_deployment_files.py).
_COMPOSE_REQUIRED = "Required by compose.yaml. "


def _secret(name: str, min_bytes: int, help: str, env_help: str) -> Setting:
    return Setting(
        name=name,
        kind=Kind.HEX_SECRET,
        group=SECRETS,
        secret=True,
        min_bytes=min_bytes,
        help=f"{help}; hex, at least {2 * min_bytes} characters.{_SECRET_NOTE}",
        env_help=f"{_COMPOSE_REQUIRED}{env_help}: openssl rand -hex {min_bytes}",
    )


HMAC_SECRET: Final = _secret(
    "HMAC_SECRET",
    32,
    "Key of the `/img`, `/original` and `/thumb` URL signatures",
    "Signs /img, /original and /thumb URLs",
)
API_KEY: Final = _secret(
    "API_KEY",
    32,
    "The `X-API-Key` of `/api/jobs*` and `/api/media/*`",
    "X-API-Key for /api/jobs and /api/media",
)
WEBHOOK_SECRET: Final = _secret(
    "WEBHOOK_SECRET",
    32,
    "Key of the webhook signatures (`X-Signature`, `X-Vylux-Signature`)",
    "Signs webhook bodies (X-Signature, X-Vylux-Signature)",
)
KEY_TOKEN_SECRET: Final = _secret(
    "KEY_TOKEN_SECRET",
    16,
    "Key of the bearer tokens of `GET /api/key/<hash>`",
    "Signs key-delivery tokens for /api/key/<hash>",
)
ENCRYPTION_KEY: Final = Setting(
    name="ENCRYPTION_KEY",
    kind=Kind.HEX_SECRET,
    group=SECRETS,
    secret=True,
    min_bytes=32,
    help="Key-encryption key(s) wrapping the content keys (AES-256-GCM): exactly 64 hex "
    "characters (version `v1`), or a rotation list `v2:<64 hex>,v1:<64 hex>` whose first "
    "entry wraps new keys and all of which unwrap. Required when `DATABASE_URL` is set; "
    "generated once in the embedded profile.",
    env_help=f"{_COMPOSE_REQUIRED}Wraps HLS content keys, 64 hex (openssl rand -hex 32); "
    "rotate: v2:<hex>,v1:<hex>.",
)
SERVICE_SECRETS: Final = (HMAC_SECRET, API_KEY, WEBHOOK_SECRET, KEY_TOKEN_SECRET, ENCRYPTION_KEY)

# --- workers -------------------------------------------------------------------------------

WORKER_CONCURRENCY: Final = Setting(
    name="WORKER_CONCURRENCY",
    kind=Kind.INT,
    group=WORKER,
    default="10",
    low=1,
    help="Attempts the main pool runs at once. It serves `critical` (weight 6) and "
    "`default` (weight 3).",
    env_help="Concurrent jobs of the main pool (thumbnails, covers, previews, videos below "
    "the threshold).",
)
LARGE_WORKER_CONCURRENCY: Final = Setting(
    name="LARGE_WORKER_CONCURRENCY",
    kind=Kind.INT,
    group=WORKER,
    default="1",
    low=1,
    help="Attempts the `video:large` pool runs at once.",
    env_help="Concurrent jobs of the large-video pool (sources above LARGE_FILE_THRESHOLD).",
)
WORKER_METRICS_PORT: Final = Setting(
    name="WORKER_METRICS_PORT",
    kind=Kind.PORT,
    group=WORKER,
    default="3001",
    low=0,
    high=MAX_PORT,
    help="Port of the `/healthz` + `/metrics` listener of `vylux-cli work`; 0 disables it. "
    "It binds to `--host` (default `127.0.0.1`).",
    env_help="Worker-only /healthz and /metrics listener (vylux-cli work); 0 disables it.",
)
SHUTDOWN_TIMEOUT: Final = Setting(
    name="SHUTDOWN_TIMEOUT",
    kind=Kind.DURATION,
    group=WORKER,
    default="30s",
    help="On SIGTERM/SIGINT the HTTP server gives in-flight requests this long, and pending "
    "`/img` cache writes get as long again.",
    env_help="Grace period for HTTP requests in flight at shutdown (Go duration: 300ms, 1m30s).",
)
WORKER_SHUTDOWN_TIMEOUT: Final = Setting(
    name="WORKER_SHUTDOWN_TIMEOUT",
    kind=Kind.DURATION,
    group=WORKER,
    default=_seconds(DEFAULT_SHUTDOWN_TIMEOUT),
    help="On SIGTERM/SIGINT running job attempts get this long to finish; the rest go back "
    "to the queue without using up an attempt.",
    env_help="Grace period for running jobs at shutdown; the rest go back to the queue.",
)
WORKER_LEASE_TIMEOUT: Final = Setting(
    name="WORKER_LEASE_TIMEOUT",
    kind=Kind.DURATION,
    group=WORKER,
    default=_seconds(DEFAULT_LEASE_SECONDS),
    # Heartbeats go every third of the lease: below this they would flood the queue.
    low=3,
    help="How long a running attempt's lease lasts without a heartbeat (sent every third of "
    "it): the tasks of a worker that died without shutting down (SIGKILL, OOM, lost host) "
    "are taken back within this plus 5 s and retried after the usual back-off; that counts "
    "as an attempt.",
    env_help="A dead worker's running jobs are taken back within this (+5 s) and retried.",
)
RECONCILE_INTERVAL: Final = Setting(
    name="RECONCILE_INTERVAL",
    kind=Kind.DURATION,
    group=WORKER,
    default=_seconds(DEFAULT_RECONCILE_INTERVAL),
    positive=True,
    help="How often the worker's reconciler compares the database with the queue and "
    "enqueues the jobs the queue does not hold (a wiped or restarted Redis, a submission "
    "made while Redis was down).",
    env_help="How often jobs the queue does not hold (a wiped Redis) are enqueued again.",
)
RECONCILE_GRACE: Final = Setting(
    name="RECONCILE_GRACE",
    kind=Kind.DURATION,
    group=WORKER,
    default=_seconds(DEFAULT_RECONCILE_GRACE),
    help="The reconciler leaves alone jobs changed more recently than this (their enqueue may "
    "still be in flight). Jobs the queue lost wait up to `RECONCILE_INTERVAL` + "
    "`RECONCILE_GRACE` before they run again.",
    env_help="Jobs changed more recently than this are left alone (their enqueue may be in "
    "flight).",
)

# --- limits --------------------------------------------------------------------------------

BODY_READ_TIMEOUT: Final = Setting(
    name="BODY_READ_TIMEOUT",
    kind=Kind.DURATION,
    group=LIMITS,
    default=_seconds(DEFAULT_BODY_READ_TIMEOUT),
    positive=True,
    help="A request body (`POST /api/jobs`) must arrive whole within this long of the route "
    "starting to read it, however slowly it trickles in; later: 408 and the connection is "
    "closed.",
    env_help="How long a request body may take to arrive whole (Go duration); later = 408.",
)
MAX_BODY_BYTES: Final = Setting(
    name="MAX_BODY_BYTES",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_MAX_BODY_BYTES),
    low=0,
    help="Largest request body (`POST /api/jobs`, retries) in bytes (64 KiB); larger: 413.",
    env_help="Largest request body in bytes (64 KiB); larger = 413.",
)
MAX_FILE_SIZE: Final = Setting(
    name="MAX_FILE_SIZE",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_MAX_FILE_SIZE),
    low=1,
    help="Largest source of `video:transcode`, `video:full` and `audio:transcode` in bytes "
    "(50 GiB); larger sources are refused with 413 at submission.",
    env_help="Transcode/full sources larger than this many bytes (50 GiB) are refused at "
    "submission.",
)
LARGE_FILE_THRESHOLD: Final = Setting(
    name="LARGE_FILE_THRESHOLD",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_LARGE_FILE_THRESHOLD),
    low=1,
    help="Sources of `video:transcode` / `video:full` / `audio:transcode` this large or larger "
    "(bytes, 5 GiB) go to the `video:large` queue with 2 retries instead of `default` "
    "with 3. At most `MAX_FILE_SIZE`.",
    env_help="Transcode/full sources of at least this many bytes (5 GiB) go to the "
    "large-video pool.",
)
CACHE_MAX_SIZE: Final = Setting(
    name="CACHE_MAX_SIZE",
    kind=Kind.INT,
    group=LIMITS,
    default=str(1 << 30),
    help="Bytes of `/img` renditions kept in memory per process (1 GiB); 0 or less disables "
    "the memory cache (the media-store cache still works).",
    env_help="In-memory cache of /img renditions in bytes (1 GiB); 0 or less disables it.",
)
IMAGE_MAX_SOURCE_BYTES: Final = Setting(
    name="IMAGE_MAX_SOURCE_BYTES",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_MAX_SOURCE_BYTES),
    low=1,
    help="Largest image source of `/img` and `image:thumbnail` in bytes (50 MiB). "
    "Larger: `/img` answers 422, the job fails without retries.",
    env_help="Largest source image /img and thumbnails will read, in bytes (50 MiB).",
)
IMAGE_SOURCE_BYTES_IN_FLIGHT: Final = Setting(
    name="IMAGE_SOURCE_BYTES_IN_FLIGHT",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_SOURCE_BYTES_IN_FLIGHT),
    low=1,
    help="Bytes of `/img` sources held in memory at once per process (256 MiB). "
    "Concurrent renders of one source share one copy; a render that does not fit waits "
    "`IMAGE_BUDGET_WAIT`, then gets 503 with `Retry-After`. A source larger than this "
    "budget is rendered alone.",
    env_help="Bytes of /img sources held in memory at once (256 MiB); over it renders wait, "
    "then 503.",
)
IMAGE_BUDGET_WAIT: Final = Setting(
    name="IMAGE_BUDGET_WAIT",
    kind=Kind.DURATION,
    group=LIMITS,
    default=_seconds(DEFAULT_BUDGET_WAIT_SECONDS),
    help="How long an `/img` render waits for room in `IMAGE_SOURCE_BYTES_IN_FLIGHT` before "
    "answering 503 (its `Retry-After` is this, rounded up to whole seconds, at least 1).",
    env_help="How long a render waits for room in that budget (Go duration).",
)
IMAGE_MAX_PIXELS: Final = Setting(
    name="IMAGE_MAX_PIXELS",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_MAX_SOURCE_PIXELS),
    low=1,
    help="Largest decoded source in pixels (width × height × frames; a decompression-bomb "
    "guard); beyond it: 422 / a failed job.",
    env_help="Largest source image in pixels (decompression-bomb guard).",
)
IMAGE_MAX_RESULT_PIXELS: Final = Setting(
    name="IMAGE_MAX_RESULT_PIXELS",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_MAX_RESULT_PIXELS),
    low=1,
    help="Largest rendition of `/img` and `image:thumbnail` in pixels (width × height × "
    "frames, 40 MP). A requested `w`×`h` beyond it: 400 / job refused at submission; a "
    "result beyond it that depends on the source: 422 / a failed job.",
    env_help="Largest rendition in pixels (width x height x frames, 40 MP): bounds encoding CPU.",
)
IMAGE_MAX_UPSCALE: Final = Setting(
    name="IMAGE_MAX_UPSCALE",
    kind=Kind.INT,
    group=LIMITS,
    default=str(DEFAULT_MAX_UPSCALE),
    low=1,
    help="Largest enlargement of a source, as a linear factor on either axis (32: a 2×2 "
    "image may become 64×64); beyond it: 422 / a failed job.",
    env_help="Largest enlargement of a source on either axis (a 2x2 image may become 64x64).",
)

# --- HTTP rate limits and proxies -------------------------------------------------------------


def _rate_limit(name: str, limit: int, window: int, what: str) -> tuple[Setting, Setting]:
    return (
        Setting(
            name=f"{name}_RATE_LIMIT",
            kind=Kind.INT,
            group=HTTP,
            default=str(limit),
            low=1,
            help=f"Requests allowed per `{name}_RATE_WINDOW` {what}; more: 429 with `Retry-After`.",
            env_help=f"Requests per {name}_RATE_WINDOW {what}; more = 429.",
        ),
        Setting(
            name=f"{name}_RATE_WINDOW",
            kind=Kind.DURATION,
            group=HTTP,
            default=_seconds(window),
            low=1,
            help=f"Window of `{name}_RATE_LIMIT`, whole seconds, aligned on the epoch.",
            env_help=f"Window of {name}_RATE_LIMIT (Go duration, whole seconds).",
        ),
    )


JOBS_RATE_LIMIT, JOBS_RATE_WINDOW = _rate_limit(
    "JOBS",
    DEFAULT_JOBS_RATE_LIMIT.limit,
    DEFAULT_JOBS_RATE_LIMIT.window_seconds,
    "per API key on job creation and retry together",
)
KEY_IP_RATE_LIMIT, KEY_IP_RATE_WINDOW = _rate_limit(
    "KEY_IP",
    DEFAULT_KEY_IP_RATE_LIMIT.limit,
    DEFAULT_KEY_IP_RATE_LIMIT.window_seconds,
    "per client address on `/api/key`",
)
KEY_RATE_LIMIT, KEY_RATE_WINDOW = _rate_limit(
    "KEY",
    DEFAULT_KEY_RATE_LIMIT.limit,
    DEFAULT_KEY_RATE_LIMIT.window_seconds,
    "per bearer token on `/api/key` (after the address limit)",
)
TRUSTED_PROXY_COUNT: Final = Setting(
    name="TRUSTED_PROXY_COUNT",
    kind=Kind.INT,
    group=HTTP,
    default=str(DEFAULT_TRUSTED_PROXY_COUNT),
    low=0,
    help="Reverse proxies in front of Vylux that append to `X-Forwarded-For`; the rate "
    "limits take the client address that many entries from its end. 0: the socket peer "
    "address (a proxy is then limited as one client).",
    env_help="Reverse proxies appending to X-Forwarded-For; 0 = rate-limit by socket peer.",
)
CALLBACK_RESOLVE_TIMEOUT: Final = Setting(
    name="CALLBACK_RESOLVE_TIMEOUT",
    kind=Kind.DURATION,
    group=HTTP,
    default=_seconds(RESOLVE_TIMEOUT_SECONDS),
    positive=True,
    help="How long the DNS answer for a `callback_url`'s host is waited for: at job "
    "submission, which refuses the URL when it does not come, and before each webhook "
    "delivery, which is then retried.",
    env_help="How long the callback_url host lookup waits for DNS (Go duration).",
)

# --- media tools ---------------------------------------------------------------------------

FFMPEG_PATH: Final = Setting(
    name="FFMPEG_PATH",
    kind=Kind.PATH,
    group=TOOLS,
    help="`ffmpeg` executable. Empty: the one bundled with `imageio-ffmpeg`. A bare name is "
    "looked up on `PATH`; the worker refuses to start when it lacks a needed decoder, "
    "encoder or filter (docs/media.md).",
    env_help="ffmpeg binary; empty = the one bundled with imageio-ffmpeg (checked at worker "
    "start).",
)
FFPROBE_PATH: Final = Setting(
    name="FFPROBE_PATH",
    kind=Kind.PATH,
    group=TOOLS,
    help="`ffprobe` executable; same rules as `FFMPEG_PATH`.",
    env_help="ffprobe binary; empty = the bundled one.",
)
SHAKA_PACKAGER_PATH: Final = Setting(
    name="SHAKA_PACKAGER_PATH",
    kind=Kind.PATH,
    group=TOOLS,
    help="Shaka Packager executable; same rules as `FFMPEG_PATH`.",
    env_help="Shaka Packager binary; empty = the bundled one.",
)

# --- observability -------------------------------------------------------------------------

LOG_LEVEL: Final = Setting(
    name="LOG_LEVEL",
    kind=Kind.CHOICE,
    group=OBSERVABILITY,
    default="INFO",
    choices=("DEBUG", "INFO", "WARN", "ERROR"),
    help="`WARNING` means `WARN`; case-insensitive, anything else means `INFO`.",
    env_help="DEBUG, INFO, WARN or ERROR (case-insensitive; unknown = INFO).",
)
LOG_FORMAT: Final = Setting(
    name="LOG_FORMAT",
    kind=Kind.CHOICE,
    group=OBSERVABILITY,
    default="json",
    choices=("json", "console"),
    help="`json`: one object per line; `console`: human-readable.",
    env_help="json = one JSON object per line on stdout; console = human-readable.",
)
ACCESS_LOG: Final = Setting(
    name="ACCESS_LOG",
    kind=Kind.BOOL,
    group=OBSERVABILITY,
    default="false",
    help="`true`: one INFO line per HTTP request of `vylux-cli serve` (logger "
    "`vylux.access`: method, path without the query, route template, status, "
    "duration, client address, request id; inside the request's trace).",
    env_help="true = one INFO line per HTTP request (method, path, status, duration, request id).",
)
OTEL_EXPORTER_OTLP_ENDPOINT: Final = Setting(
    name="OTEL_EXPORTER_OTLP_ENDPOINT",
    kind=Kind.URL,
    group=OBSERVABILITY,
    help="Where spans go over OTLP/HTTP. Empty: not exported (trace ids still exist). "
    "`host[:port]`: HTTPS to `/v1/traces`; an `http(s)://` URL: that scheme, and its path "
    "(if any) instead of `/v1/traces`.",
    env_help="OTLP/HTTP collector: host[:port] (HTTPS) or an http(s) URL; empty = spans not "
    "exported.",
)

# --- imgproxy URL dialect --------------------------------------------------------------------

IMGPROXY_ENABLED: Final = Setting(
    name="IMGPROXY_ENABLED",
    kind=Kind.BOOL,
    group=IMGPROXY,
    profile_default=(True, False),
    help="Serve imgproxy's URL dialect under `IMGPROXY_PATH_PREFIX`. A server profile "
    "that enables it must set `IMGPROXY_KEY` and `IMGPROXY_SALT`.",
    env_help="Serve imgproxy's URLs under IMGPROXY_PATH_PREFIX; empty = on in the embedded "
    "profile (key and salt generated into secrets.env), off in the server profile.",
)
IMGPROXY_PATH_PREFIX: Final = Setting(
    name="IMGPROXY_PATH_PREFIX",
    kind=Kind.TEXT,
    group=IMGPROXY,
    default=DEFAULT_PATH_PREFIX,
    help="Path prefix of the route family: `{prefix}/{signature}/{options}/plain/{source}`. "
    "It must not take paths of the service's own routes (`/img`, `/api`, `/stream/x`, …).",
    env_help="Path prefix of the route family: {prefix}/{signature}/{options}/plain/{source}.",
)
IMGPROXY_KEY: Final = Setting(
    name="IMGPROXY_KEY",
    kind=Kind.KEY_LIST,
    group=IMGPROXY,
    secret=True,
    min_bytes=32,
    help="imgproxy signature key, hex; several comma-separated for rotation (paired with "
    "`IMGPROXY_SALT` by position). The embedded profile generates one into "
    "`VYLUX_DATA_DIR/secrets.env`.",
    env_help="Hex signature key; a comma-separated list for rotation (openssl rand -hex 32).",
)
IMGPROXY_SALT: Final = Setting(
    name="IMGPROXY_SALT",
    kind=Kind.KEY_LIST,
    group=IMGPROXY,
    secret=True,
    min_bytes=32,
    help="imgproxy signature salt, hex; as many entries as `IMGPROXY_KEY`. Generated like it.",
    env_help="Hex signature salt; as many entries as IMGPROXY_KEY (openssl rand -hex 32).",
)
IMGPROXY_SECRETS: Final = (IMGPROXY_KEY, IMGPROXY_SALT)
IMGPROXY_SIGNATURE_SIZE: Final = Setting(
    name="IMGPROXY_SIGNATURE_SIZE",
    kind=Kind.INT,
    group=IMGPROXY,
    default=str(DEFAULT_SIGNATURE_SIZE),
    low=1,
    high=DEFAULT_SIGNATURE_SIZE,
    help="Bytes of the HMAC-SHA256 kept in the signature, as imgproxy.",
    env_help="Bytes of the HMAC-SHA256 kept in signatures.",
)
IMGPROXY_ALLOW_INSECURE: Final = Setting(
    name="IMGPROXY_ALLOW_INSECURE",
    kind=Kind.BOOL,
    group=IMGPROXY,
    default="false",
    help="Accept `insecure` or `_` in place of a signature. Only for development.",
    env_help='Accept "insecure" or "_" instead of a signature (development only).',
)
IMGPROXY_PRESETS: Final = Setting(
    name="IMGPROXY_PRESETS",
    kind=Kind.PRESETS,
    group=IMGPROXY,
    help="Named option sets, `name=opt:arg/opt:arg,name2=…`; a preset named `default` "
    "applies to every request.",
    env_help='Named option sets: name=opt:arg/opt:arg,name2=...; "default" applies to every '
    "request.",
)
IMGPROXY_ONLY_PRESETS: Final = Setting(
    name="IMGPROXY_ONLY_PRESETS",
    kind=Kind.BOOL,
    group=IMGPROXY,
    default="false",
    help="Treat every option segment as preset names (no raw options in URLs).",
    env_help="Only presets may appear in URLs.",
)
IMGPROXY_AUTO_AVIF: Final = Setting(
    name="IMGPROXY_AUTO_AVIF",
    kind=Kind.BOOL,
    group=IMGPROXY,
    default="true",
    help="Without an explicit format, answer AVIF to clients whose `Accept` names "
    "`image/avif` (with `Vary: Accept`).",
    env_help="Without an explicit format, answer AVIF to clients whose Accept names image/avif.",
)
IMGPROXY_AUTO_WEBP: Final = Setting(
    name="IMGPROXY_AUTO_WEBP",
    kind=Kind.BOOL,
    group=IMGPROXY,
    default="true",
    help="Without an explicit format, answer WebP to clients whose `Accept` names "
    "`image/webp` (after AVIF).",
    env_help="Then WebP to clients whose Accept names image/webp.",
)
IMGPROXY_WATERMARK_PATH: Final = Setting(
    name="IMGPROXY_WATERMARK_PATH",
    kind=Kind.TEXT,
    group=IMGPROXY,
    help="Source-store key of the image the `watermark` option lays over renditions "
    "(read once per process); without it `watermark` is a 400.",
    env_help="Source-store key of the watermark image (the watermark option); empty = none.",
)

SETTINGS: Final[tuple[Setting, ...]] = (
    MODE,
    PORT,
    METRICS_PORT,
    BASE_URL,
    VYLUX_DATA_DIR,
    VYLUX_SCRATCH_DIR,
    ALLOW_PRIVATE_CALLBACKS,
    CORS_ALLOWED_ORIGINS,
    STREAM_CORS_ALLOWED_ORIGINS,
    DASHBOARD_ENABLED,
    DATABASE_URL,
    REDIS_URL,
    *SOURCE_S3.settings,
    *MEDIA_S3.settings,
    *SERVICE_SECRETS,
    WORKER_CONCURRENCY,
    LARGE_WORKER_CONCURRENCY,
    WORKER_METRICS_PORT,
    SHUTDOWN_TIMEOUT,
    WORKER_SHUTDOWN_TIMEOUT,
    WORKER_LEASE_TIMEOUT,
    RECONCILE_INTERVAL,
    RECONCILE_GRACE,
    BODY_READ_TIMEOUT,
    MAX_BODY_BYTES,
    MAX_FILE_SIZE,
    LARGE_FILE_THRESHOLD,
    CACHE_MAX_SIZE,
    IMAGE_MAX_SOURCE_BYTES,
    IMAGE_SOURCE_BYTES_IN_FLIGHT,
    IMAGE_BUDGET_WAIT,
    IMAGE_MAX_PIXELS,
    IMAGE_MAX_RESULT_PIXELS,
    IMAGE_MAX_UPSCALE,
    JOBS_RATE_LIMIT,
    JOBS_RATE_WINDOW,
    KEY_IP_RATE_LIMIT,
    KEY_IP_RATE_WINDOW,
    KEY_RATE_LIMIT,
    KEY_RATE_WINDOW,
    TRUSTED_PROXY_COUNT,
    CALLBACK_RESOLVE_TIMEOUT,
    FFMPEG_PATH,
    FFPROBE_PATH,
    SHAKA_PACKAGER_PATH,
    LOG_LEVEL,
    LOG_FORMAT,
    ACCESS_LOG,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    IMGPROXY_ENABLED,
    IMGPROXY_PATH_PREFIX,
    IMGPROXY_KEY,
    IMGPROXY_SALT,
    IMGPROXY_SIGNATURE_SIZE,
    IMGPROXY_ALLOW_INSECURE,
    IMGPROXY_PRESETS,
    IMGPROXY_ONLY_PRESETS,
    IMGPROXY_AUTO_AVIF,
    IMGPROXY_AUTO_WEBP,
    IMGPROXY_WATERMARK_PATH,
)
