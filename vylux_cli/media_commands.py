"""``vylux-cli media``: remove everything derived from a media hash."""

from __future__ import annotations

import click
from rich.markup import escape

from vylux_cli.api_client import API_KEY_OPTION, API_OPTION
from vylux_cli.console import console
from vylux_cli.job_backends import Target, choose_target, open_jobs
from vylux_cli.operator_errors import RejectedError, run
from vylux_core.errors import InvalidHash
from vylux_core.media.media_hash import validate_media_hash


@click.group()
def media() -> None:
    """Manage stored media by hash."""


@media.command()
@click.argument("media_hash", metavar="HASH")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@API_OPTION
@API_KEY_OPTION
def purge(media_hash: str, yes: bool, api_url: str | None, api_key: str | None) -> None:
    """Delete the jobs, queued tasks, derived objects (images/, videos/), cached /img
    renditions and content key of HASH, as DELETE /api/media/HASH does.

    The source object is kept. Renditions cached in the memory of running servers
    and CDN copies are not reached (they expire on their own).

    Exit codes: 0 purged (also when nothing existed); 1 not confirmed, or a step
    failed (run it again: it is idempotent); 2 invalid configuration or hash; 3 the
    database, queue, storage or API server is unreachable.
    """
    try:
        validate_media_hash(media_hash)
    except InvalidHash as exc:
        raise RejectedError(str(exc)) from exc
    target = choose_target(api_url, api_key)
    if not yes:
        click.confirm(
            f"Delete every job, derived object and the content key of {media_hash!r}?",
            abort=True,
        )
    removed = run(_purge(target, media_hash))
    jobs = "" if removed is None else f" ({removed} job(s) removed)"
    console().print(f"purged {escape(media_hash)}{jobs}")


async def _purge(target: Target, media_hash: str) -> int | None:
    async with open_jobs(target) as backend:
        return await backend.purge(media_hash)
