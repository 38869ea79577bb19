"""The ``vylux-cli`` command."""

from __future__ import annotations

import asyncio
import signal
from importlib.metadata import version

import click
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from vylux_adapters.http import create_app


@click.group()
@click.version_option(version("vylux"), prog_name="Vylux", message="%(prog)s %(version)s")
def cli() -> None:
    """Vylux: signed real-time image transforms and HLS video jobs."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=3000, show_default=True, envvar="PORT", type=click.IntRange(1, 65535),
    help="Port to listen on (env PORT).",
)  # fmt: skip
@click.option(
    "--shutdown-timeout", default=30.0, show_default=True, type=click.FloatRange(min=0),
    help="Seconds in-flight requests get to finish on SIGTERM/SIGINT.",
)  # fmt: skip
def serve(host: str, port: int, shutdown_timeout: float) -> None:
    """Run the HTTP server until SIGTERM or SIGINT."""
    config = HypercornConfig()
    config.bind = [f"{host}:{port}"]
    config.graceful_timeout = shutdown_timeout
    config.accesslog = None
    click.echo(f"vylux: serving on http://{host}:{port}", err=True)
    asyncio.run(_serve(config))


async def _serve(config: HypercornConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await hypercorn_serve(create_app(), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
