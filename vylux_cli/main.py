"""The ``vylux-cli`` command."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from importlib.metadata import version
from typing import NoReturn

import click
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from vylux_cli import bootstrap
from vylux_cli.config import Config, ConfigError, environment_with_defaults
from vylux_core.errors import DatabaseUnavailable

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
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None,
    help="Port to listen on (default: PORT, else 3000).",
)  # fmt: skip
def serve(host: str, port: int | None) -> None:
    """Run the HTTP server until SIGTERM or SIGINT.

    Migrates the database first (safe with several replicas starting at once).
    In-flight requests get SHUTDOWN_TIMEOUT to finish.
    """
    config = _load_config()
    hypercorn_config = HypercornConfig()
    hypercorn_config.bind = [f"{host}:{port or config.port}"]
    hypercorn_config.graceful_timeout = config.shutdown_timeout
    hypercorn_config.accesslog = None
    _run(_serve(config, hypercorn_config))


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date, then exit (a no-op when it is)."""
    config = _load_config()
    profile = bootstrap.choose_profile(config)
    _run(bootstrap.migrate(profile))
    click.echo(f"database schema is up to date ({profile.describe().split()[0]})")


async def _serve(config: Config, hypercorn_config: HypercornConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with bootstrap.build_server(config) as app:
        click.echo(f"vylux: serving on http://{hypercorn_config.bind[0]}", err=True)
        await hypercorn_serve(app, hypercorn_config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


def _load_config() -> Config:
    try:
        return bootstrap.load_runtime_config(environment_with_defaults())
    except ConfigError as exc:
        _fail_config(exc)


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
