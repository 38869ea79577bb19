"""The ``vylux-cli`` command."""

from __future__ import annotations

import importlib
import socket
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vylux_cli import logging_setup, startup
from vylux_cli.command_config import (
    StartupError,
    data_dir_error,
    exit_on,
    exit_on_config_error,
    load_config,
)
from vylux_cli.config import Config, ConfigError
from vylux_cli.runtime_config import embedded_database_path

# Only what `--version`, `sign` and `key-token` need is imported up here: the database,
# queue, storage and HTTP stacks load inside the commands that use them (bench/cli_startup.py).
if TYPE_CHECKING:
    from hypercorn.config import Config as HypercornConfig


class LazyGroup(click.Group):
    """A group whose subcommand groups are imported when invoked (or listed in --help)."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy_commands  # name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(
    cls=LazyGroup,
    lazy_commands={
        "jobs": "vylux_cli.job_commands:jobs",
        "queue": "vylux_cli.queue_commands:queue",
        "keys": "vylux_cli.key_commands:keys",
        "media": "vylux_cli.media_commands:media",
    },
)
# The version is looked up (importlib.metadata) only when --version is given.
@click.version_option(package_name="vylux", prog_name="Vylux", message="%(prog)s %(version)s")
@click.option(
    "--verbose", "-v", count=True,
    help="Log INFO lines (-vv: DEBUG) from tool commands too; serve and work follow LOG_LEVEL.",
)  # fmt: skip
def cli(verbose: int) -> None:
    """Vylux: signed real-time image transforms and HLS video jobs.

    Configuration comes from environment variables (and .env / .env.local in the
    working directory; real environment variables win). Without DATABASE_URL the
    embedded profile keeps everything under VYLUX_DATA_DIR (default ./vylux-data).

    Exit codes: 0 success, 1 failure, 2 invalid configuration, 3 a dependency
    (database) unreachable.
    """
    # The subcommand decides the stream: services log to stdout, tools to stderr.
    logging_setup.configure_from_environment(
        click.get_current_context().invoked_subcommand, verbosity=verbose
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None,
    help="Port to listen on (default: PORT, else 3000).",
)  # fmt: skip
@click.option(
    "--no-worker", is_flag=True,
    help="Serve HTTP only (as MODE=server); by default the worker runs in-process too.",
)  # fmt: skip
def serve(host: str, port: int | None, no_worker: bool) -> None:
    """Run the HTTP server (and, unless told not to, the worker) until SIGTERM/SIGINT.

    Migrates the database first (safe with several replicas starting at once).
    In-flight requests get SHUTDOWN_TIMEOUT to finish; running jobs get
    WORKER_SHUTDOWN_TIMEOUT, then go back to the queue without losing an attempt.
    """
    from hypercorn.config import Config as HypercornConfig

    from vylux_adapters.http import strict_h11

    config = load_config()
    strict_h11.install()
    hypercorn_config = HypercornConfig()
    hypercorn_config.bind = [f"{host}:{port or config.port}"]
    hypercorn_config.graceful_timeout = config.shutdown_timeout
    logging_setup.route_hypercorn_logs(hypercorn_config)
    with_worker = not no_worker and config.mode != "server"
    # Bound before anything else starts: a busy port fails at once, in one line.
    listener = _listen(host, port or config.port)
    _run(_serve(config, hypercorn_config, listener, with_worker=with_worker), config)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Metrics listener address.")
def work(host: str) -> None:
    """Run the queue workers until SIGTERM/SIGINT.

    /healthz and /metrics are served on WORKER_METRICS_PORT (0 disables them).
    """
    config = load_config()
    _run(_work(config, host), config)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date, then exit (a no-op when it is)."""
    from vylux_cli import bootstrap

    config = load_config()
    profile = bootstrap.choose_profile(config)
    _run(bootstrap.migrate(profile), config)
    click.echo(f"database schema is up to date ({profile.describe().split()[0]})")


@cli.group()
def sign() -> None:
    """Print signed URLs (uses HMAC_SECRET, BASE_URL and PORT of the configuration,
    read as `serve` reads them: environment, then .env / .env.local)."""


_BASE_URL_OPTION = click.option(
    "--base-url", default=None,
    help="Origin to put in front (default: BASE_URL, else http://127.0.0.1:PORT).",
)  # fmt: skip
_JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")


@sign.command("img")
@click.argument("source")
@click.option(
    "--options", "-o", default="w800", show_default=True, help="w/h/q options, e.g. w640_h360_q80."
)
@click.option(
    "--format", "-f", "fmt", default="webp", show_default=True, help="webp, avif, jpg, png or gif."
)
@_BASE_URL_OPTION
@_JSON_OPTION
def sign_img(source: str, options: str, fmt: str, base_url: str | None, as_json: bool) -> None:
    """A signed /img URL for the source object SOURCE (a key in the source store).

    Warns (on stderr) when the source store is the local directory and holds no
    object SOURCE. Exit codes: 0 printed; 2 invalid options, format or key.
    """
    from vylux_cli import sign_commands

    config = load_config()
    sign_commands.check_source_key(config, source)
    url = sign_commands.sign_image_url(config, source, options, fmt, base_url)
    sign_commands.output({"url": url, "source": source}, url, as_json=as_json)


@sign.command("original")
@click.argument("key")
@_BASE_URL_OPTION
@_JSON_OPTION
def sign_original(key: str, base_url: str | None, as_json: bool) -> None:
    """A signed /original URL for KEY in the source store."""
    from vylux_cli import sign_commands

    config = load_config()
    sign_commands.check_source_key(config, key)
    url = sign_commands.sign_object_url(config, "original", key, base_url)
    sign_commands.output({"url": url, "key": key}, url, as_json=as_json)


@sign.command("thumb")
@click.argument("key")
@_BASE_URL_OPTION
@_JSON_OPTION
def sign_thumb(key: str, base_url: str | None, as_json: bool) -> None:
    """A signed /thumb URL for KEY in the media store."""
    from vylux_cli import sign_commands

    config = load_config()
    url = sign_commands.sign_object_url(config, "thumb", key, base_url)
    sign_commands.output({"url": url, "key": key}, url, as_json=as_json)


@sign.command("imgproxy")
@click.argument("source")
@click.option(
    "--options", "-o", default=None,
    help="imgproxy processing options separated by '/', e.g. rs:fill:300:200/g:sm "
    "(default: rs:fit:800:0; none with --info).",
)  # fmt: skip
@click.option(
    "--format", "-f", "fmt", default=None,
    help="jpg, png, webp, avif, gif or tiff (default: Accept).",
)  # fmt: skip
@click.option("--base64", "encode_source", is_flag=True, help="Base64-encode the source.")
@click.option(
    "--info", is_flag=True,
    help="A URL of the info endpoint (JSON about SOURCE); options: exp and cb only.",
)  # fmt: skip
@_BASE_URL_OPTION
@_JSON_OPTION
def sign_imgproxy(
    source: str, options: str | None, fmt: str | None, encode_source: bool, info: bool,
    base_url: str | None, as_json: bool,
) -> None:  # fmt: skip
    """A signed imgproxy-dialect URL for SOURCE (a key in the source store)."""
    from vylux_cli import sign_commands
    from vylux_core.errors import VyluxError

    config = load_config()
    sign_commands.check_source_key(config, source)
    try:
        if options is None:
            options = "" if info else "rs:fit:800:0"
        url = sign_commands.sign_imgproxy_url(
            config, source, options, fmt, base_url, encode_source=encode_source, info=info
        )
    except (VyluxError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    sign_commands.output({"url": url, "source": source}, url, as_json=as_json)


@cli.command("key-token")
@click.argument("media_hash", metavar="HASH")
@click.option(
    "--ttl", default="1h", show_default=True, help="Lifetime, e.g. 30m, 1h, 24h, 1d (positive)."
)
@_JSON_OPTION
def key_token(media_hash: str, ttl: str, as_json: bool) -> None:
    """A bearer token for GET /api/key/HASH (KEY_TOKEN_SECRET).

    Exit codes: 0 printed; 2 invalid hash or lifetime.
    """
    from vylux_cli import sign_commands

    token, expires = sign_commands.mint_token(load_config(), media_hash, ttl)
    view = {"token": token, "hash": media_hash, "expires_at": expires}
    sign_commands.output(view, token, as_json=as_json)


def _stop_event() -> Any:
    from vylux_cli.shutdown import Shutdown

    return Shutdown(_say)


def _listen(host: str, port: int) -> socket.socket:
    try:
        return startup.bind_listener(host, port)
    except StartupError as exc:
        exit_on(exc)


def _hand_over(listener: socket.socket, hypercorn_config: HypercornConfig) -> None:
    """Hypercorn serves (and closes) the socket bound here instead of binding its own;
    detached, the socket object no longer closes the descriptor too."""
    hypercorn_config.bind = [f"fd://{listener.detach()}"]


async def _wait_for_queue(config: Config, stop: Any) -> bool:
    """Wait until Redis answers (when configured); False when told to stop meanwhile."""
    import asyncio

    if not config.redis_url:
        return True
    waiting = asyncio.create_task(
        startup.wait_for_redis(config.redis_url, lambda line: _say(f"WARN: {line}"))
    )
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait((waiting, stopping), return_when=asyncio.FIRST_COMPLETED)
    for task in (waiting, stopping):
        task.cancel()
    return not stop.is_set()


def _say(line: str) -> None:
    click.echo(f"vylux: {line}", err=True)


async def _serve(
    config: Config, hypercorn_config: HypercornConfig, listener: socket.socket,
    *, with_worker: bool,
) -> None:  # fmt: skip
    import asyncio
    from contextlib import AsyncExitStack

    from hypercorn.asyncio import serve as hypercorn_serve

    from vylux_cli import bootstrap

    stop = _stop_event()
    address = _host_and_port(listener)
    async with AsyncExitStack() as stack:
        stack.callback(listener.close)
        runtime = await stack.enter_async_context(bootstrap.open_runtime(config))
        if not await _wait_for_queue(config, stop):
            return
        app = await stack.enter_async_context(bootstrap.build_server(runtime))
        worker_task = None
        if with_worker:
            worker = await stack.enter_async_context(bootstrap.build_worker(runtime))
            stop.watch(worker, config.worker_shutdown_timeout)
            worker_task = asyncio.create_task(worker.run())
        metrics_listener = None
        if config.metrics_port:
            from vylux_cli.metrics_listener import start_metrics_listener

            host = address.rpartition(":")[0]
            metrics_listener = start_metrics_listener(runtime, host, config.metrics_port, stop.wait)
        _say(f"serving on http://{address}")
        _hand_over(listener, hypercorn_config)
        await hypercorn_serve(app, hypercorn_config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
        if worker_task is not None:
            worker.stop()
            await worker_task
        if metrics_listener is not None:
            await metrics_listener


def _host_and_port(listener: socket.socket) -> str:
    """``host:port`` of a bound socket (``[v6]:port`` for IPv6)."""
    host, port = listener.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _work(config: Config, host: str) -> None:
    import asyncio
    from contextlib import AsyncExitStack

    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config as HypercornConfig

    from vylux_adapters.http import strict_h11
    from vylux_cli import bootstrap

    stop = _stop_event()
    async with AsyncExitStack() as stack:
        listener_config = None
        if config.worker_metrics_port:
            strict_h11.install()
            listener_config = HypercornConfig()
            logging_setup.route_hypercorn_logs(listener_config)
            metrics_socket = _listen(host, config.worker_metrics_port)
            stack.callback(metrics_socket.close)
        runtime = await stack.enter_async_context(bootstrap.open_runtime(config))
        if not await _wait_for_queue(config, stop):
            return
        worker = await stack.enter_async_context(bootstrap.build_worker(runtime))
        stop.watch(worker, config.worker_shutdown_timeout)
        listener = None
        if listener_config is not None:
            _hand_over(metrics_socket, listener_config)
            app = bootstrap.metrics_listener_app(runtime)
            listener = asyncio.create_task(
                hypercorn_serve(app, listener_config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
            )
        running = asyncio.create_task(worker.run())
        _say("worker running")
        await stop.wait()
        worker.stop()
        await running
        if listener is not None:
            await listener


def _run(coroutine: Coroutine[Any, Any, Any], config: Config | None = None) -> None:
    """Run a service coroutine; start-up failures end it with one line and their code."""
    import asyncio

    from vylux_core.errors import DatabaseUnavailable

    try:
        asyncio.run(coroutine)
    except StartupError as exc:
        exit_on(exc)
    except ConfigError as exc:
        exit_on_config_error(exc)
    except DatabaseUnavailable:
        if config is None:
            raise
        exit_on(startup.database_error(config.database_url, embedded_database_path(config)))
    except OSError as exc:
        # Creating the embedded directories or the SQLite file under VYLUX_DATA_DIR.
        if config is None or not _under(exc.filename, config.data_dir):
            raise
        exit_on(data_dir_error(config.data_dir, exc))


def _under(filename: object, directory: Path) -> bool:
    if not isinstance(filename, str | Path):
        return False
    path, root = Path(filename).absolute(), directory.absolute()
    return path.is_relative_to(root) or root.is_relative_to(path)
