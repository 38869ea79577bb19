"""The ``vylux-cli`` command."""

from __future__ import annotations

import asyncio
import signal
import sys
from contextlib import AsyncExitStack
from importlib.metadata import version
from typing import NoReturn

import click
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from vylux_adapters.http import strict_h11
from vylux_adapters.http.metrics_endpoint import worker_listener_app
from vylux_cli import (
    bootstrap,
    job_commands,
    key_commands,
    logging_setup,
    media_commands,
    queue_commands,
    sign_commands,
)
from vylux_cli.config import Config, ConfigError, environment_with_defaults
from vylux_core.errors import DatabaseUnavailable, VyluxError

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3


@click.group()
@click.version_option(version("vylux"), prog_name="Vylux", message="%(prog)s %(version)s")
def cli() -> None:
    """Vylux: signed real-time image transforms and HLS video jobs.

    Configuration comes from environment variables (and .env / .env.local in the
    working directory; real environment variables win). Without DATABASE_URL the
    embedded profile keeps everything under VYLUX_DATA_DIR (default ./vylux-data).

    Exit codes: 0 success, 1 failure, 2 invalid configuration, 3 a dependency
    (database) unreachable.
    """
    # The subcommand decides the stream: services log to stdout, tools to stderr.
    logging_setup.configure_from_environment(click.get_current_context().invoked_subcommand)


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
    config = _load_config()
    strict_h11.install()
    hypercorn_config = HypercornConfig()
    hypercorn_config.bind = [f"{host}:{port or config.port}"]
    hypercorn_config.graceful_timeout = config.shutdown_timeout
    logging_setup.route_hypercorn_logs(hypercorn_config)
    with_worker = not no_worker and config.mode != "server"
    _run(_serve(config, hypercorn_config, with_worker=with_worker))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Metrics listener address.")
def work(host: str) -> None:
    """Run the queue workers until SIGTERM/SIGINT.

    /healthz and /metrics are served on WORKER_METRICS_PORT (0 disables them).
    """
    config = _load_config()
    _run(_work(config, host))


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date, then exit (a no-op when it is)."""
    config = _load_config()
    profile = bootstrap.choose_profile(config)
    _run(bootstrap.migrate(profile))
    click.echo(f"database schema is up to date ({profile.describe().split()[0]})")


@cli.group()
def sign() -> None:
    """Print signed URLs (uses HMAC_SECRET and BASE_URL of the configuration)."""


_BASE_URL_OPTION = click.option(
    "--base-url", default=None, help="Origin to put in front (default: BASE_URL, else localhost)."
)


@sign.command("img")
@click.argument("source")
@click.option(
    "--options", "-o", default="w800", show_default=True, help="w/h/q options, e.g. w640_h360_q80."
)
@click.option(
    "--format", "-f", "fmt", default="webp", show_default=True, help="webp, avif, jpg, png or gif."
)
@_BASE_URL_OPTION
def sign_img(source: str, options: str, fmt: str, base_url: str | None) -> None:
    """A signed /img URL for the source object SOURCE (a key in the source store)."""
    try:
        click.echo(sign_commands.sign_image_url(_load_config(), source, options, fmt, base_url))
    except (VyluxError, ValueError) as error:
        sign_commands.fail(error)


@sign.command("original")
@click.argument("key")
@_BASE_URL_OPTION
def sign_original(key: str, base_url: str | None) -> None:
    """A signed /original URL for KEY in the source store."""
    click.echo(sign_commands.sign_object_url(_load_config(), "original", key, base_url))


@sign.command("thumb")
@click.argument("key")
@_BASE_URL_OPTION
def sign_thumb(key: str, base_url: str | None) -> None:
    """A signed /thumb URL for KEY in the media store."""
    click.echo(sign_commands.sign_object_url(_load_config(), "thumb", key, base_url))


sign.add_command(sign_commands.imgproxy_command(lambda: _load_config()))


@cli.command("key-token")
@click.argument("media_hash", metavar="HASH")
@click.option("--ttl", default="1h", show_default=True, help="Lifetime, e.g. 30m, 1h, 24h.")
def key_token(media_hash: str, ttl: str) -> None:
    """A bearer token for GET /api/key/HASH (KEY_TOKEN_SECRET)."""
    try:
        click.echo(sign_commands.mint_token(_load_config(), media_hash, ttl))
    except (VyluxError, ValueError) as error:
        sign_commands.fail(error)


cli.add_command(job_commands.jobs)
cli.add_command(queue_commands.queue)
cli.add_command(key_commands.keys)
cli.add_command(media_commands.media)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve(config: Config, hypercorn_config: HypercornConfig, *, with_worker: bool) -> None:
    stop = _stop_event()
    async with AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(bootstrap.open_runtime(config))
        app = await stack.enter_async_context(bootstrap.build_server(runtime))
        worker_task = None
        if with_worker:
            worker = await stack.enter_async_context(bootstrap.build_worker(runtime))
            worker_task = asyncio.create_task(worker.run())
        click.echo(f"vylux: serving on http://{hypercorn_config.bind[0]}", err=True)
        await hypercorn_serve(app, hypercorn_config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
        if worker_task is not None:
            worker.stop()
            await worker_task


async def _work(config: Config, host: str) -> None:
    stop = _stop_event()
    async with AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(bootstrap.open_runtime(config))
        worker = await stack.enter_async_context(bootstrap.build_worker(runtime))
        listener = None
        if config.worker_metrics_port:
            strict_h11.install()
            listener_config = HypercornConfig()
            listener_config.bind = [f"{host}:{config.worker_metrics_port}"]
            logging_setup.route_hypercorn_logs(listener_config)
            app = worker_listener_app(
                runtime.metrics, runtime.metrics.registry, runtime.queue.stats
            )
            listener = asyncio.create_task(
                hypercorn_serve(app, listener_config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
            )
        running = asyncio.create_task(worker.run())
        click.echo("vylux: worker running", err=True)
        await stop.wait()
        worker.stop()
        await running
        if listener is not None:
            await listener


def _load_config() -> Config:
    try:
        config = bootstrap.load_runtime_config(environment_with_defaults())
    except ConfigError as exc:
        _fail_config(exc)
    logging_setup.register_secrets(config)
    return config


def _fail_config(error: ConfigError) -> NoReturn:
    click.echo("ERROR: invalid configuration:", err=True)
    for problem in error.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(EXIT_CONFIG)


def _run(coroutine: object) -> None:
    try:
        asyncio.run(coroutine)  # type: ignore[arg-type]
    except DatabaseUnavailable as exc:
        click.echo(f"ERROR: {exc}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
