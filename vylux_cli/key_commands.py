"""``vylux-cli keys``: rotate the key-encryption key (KEK) of stored content keys."""

from __future__ import annotations

import secrets
import sys

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from vylux_cli import bootstrap
from vylux_cli.command_config import load_config
from vylux_cli.config import Config
from vylux_cli.console import console
from vylux_cli.operator_errors import RejectedError, run
from vylux_core.security.key_ring import KEK_BYTES, KeyEncryptionKey
from vylux_core.services.key_rotation import (
    DEFAULT_BATCH,
    RewrapReport,
    rewrap_all,
    rewrap_backlog,
)


@click.group()
def keys() -> None:
    """Key-encryption key rotation for the content keys of encrypted videos."""


@keys.command()
@click.option("--rewrap", is_flag=True, help="Rewrap every key not yet on the current KEK.")
@click.option(
    "--batch", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1),
    help="Keys read and rewrapped per database round.",
)  # fmt: skip
def rotate(rewrap: bool, batch: int) -> None:
    """Report, or finish, a rotation of the key-encryption key.

    \b
    Rotating is a configuration change:
      1. vylux-cli keys generate-kek --version v2   (prints v2:<64 hex>)
      2. put it first in ENCRYPTION_KEY, keeping the old entry behind it:
         ENCRYPTION_KEY=v2:<new hex>,v1:<old hex>
      3. restart servers and workers: new keys are wrapped with v2, old ones still
         unwrap with v1;
      4. vylux-cli keys rotate --rewrap   (moves the stored keys onto v2);
      5. once it reports 0 left, v1 may be dropped from ENCRYPTION_KEY.

    Without --rewrap this prints the current version and how many stored keys still
    need rewrapping. --rewrap is safe beside running servers and resumable: each key
    is swapped with a compare-and-set and only keys not yet current are listed.

    Exit codes: 0 nothing left to rewrap (or, without --rewrap, reported); 1 some
    keys could not be rewrapped (e.g. their KEK version is no longer configured);
    2 invalid configuration; 3 the database is unreachable.
    """
    config = load_config()
    sys.exit(run(_rewrap(config, batch) if rewrap else _report(config)))


async def _report(config: Config) -> int:
    out = console()
    async with bootstrap.open_runtime(config, migrate_schema=False) as runtime:
        ring = runtime.core.key_ring
        backlog = await rewrap_backlog(runtime.keys, ring.current_version)
    out.print(f"current key-encryption key: [bold]{escape(ring.current_version)}[/]")
    out.print(f"configured versions: {escape(', '.join(ring.versions))}")
    out.print(f"stored keys to rewrap: [bold]{backlog.total}[/]")
    for wrapping, count in backlog.by_wrapping.items():
        out.print(f"  {escape(wrapping)}: {count}")
    if backlog.total:
        out.print("run `vylux-cli keys rotate --rewrap` to move them onto the current version")
    return 0


async def _rewrap(config: Config, batch: int) -> int:
    out, errors = console(), console(stderr=True)
    async with bootstrap.open_runtime(config, migrate_schema=False) as runtime:
        ring = runtime.core.key_ring
        backlog = await rewrap_backlog(runtime.keys, ring.current_version)
        columns = (TextColumn("rewrapping onto {task.fields[version]}"), BarColumn(),
                   MofNCompleteColumn())  # fmt: skip
        with Progress(*columns, console=errors) as bar:
            task = bar.add_task("rewrap", total=backlog.total, version=ring.current_version)

            def advance(report: RewrapReport) -> None:
                bar.update(task, completed=report.seen)

            report = await rewrap_all(runtime.keys, ring, batch=batch, on_batch=advance)
        left = (await rewrap_backlog(runtime.keys, ring.current_version)).total
    out.print(f"rewrapped {report.rewrapped} key(s) onto {escape(ring.current_version)}")
    if report.conflicts:
        out.print(f"{report.conflicts} key(s) changed meanwhile and were left alone")
    for failure in report.failures:
        errors.print(f"Error: {escape(failure.media_hash)}: {escape(failure.error)}")
    out.print(f"stored keys still to rewrap: [bold]{left}[/]")
    return 1 if report.failures or left else 0


@keys.command("generate-kek")
@click.option("--version", "version", required=True, help="Version label, e.g. v2.")
def generate_kek(version: str) -> None:
    """Print a fresh key-encryption key as VERSION:<64 hex> (256 bits, from the OS).

    Put it first in ENCRYPTION_KEY, in front of the current value and separated by a
    comma, then restart and run `vylux-cli keys rotate --rewrap`. Only the value goes
    to stdout (the hint goes to stderr), so it can be captured by a script.

    Exit codes: 0 printed; 2 invalid version label.
    """
    key_hex = secrets.token_hex(KEK_BYTES)
    try:
        # The same rules the configuration applies, so the value is accepted there.
        KeyEncryptionKey(version=version, key=bytes.fromhex(key_hex))
    except ValueError as exc:
        raise RejectedError(str(exc)) from exc
    click.echo(f"{version}:{key_hex}")
    click.echo(f"put it first in ENCRYPTION_KEY: {version}:<this hex>,<current value>", err=True)
