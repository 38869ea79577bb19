"""Running a background pass forever, surviving its failures."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from vylux_core.errors import Unavailable
from vylux_core.ports.clock import Clock

logger = logging.getLogger(__name__)


async def run_periodically(
    tick: Callable[[], Awaitable[object]], *, clock: Clock, interval: float, name: str
) -> None:
    """Call ``tick`` every ``interval`` seconds until cancelled.

    Nothing supervises these loops (lease recovery, reconciling, webhook delivery):
    a database or Redis blip that ended one would stop that work for the rest of the
    process's life, so a failed pass is logged and the next one runs on schedule.
    An outage of a dependency (``Unavailable``) is expected and says all there is
    to say in one WARNING line; its traceback, repeated every pass for as long as
    the outage lasts, would bury the log. Anything else is a bug and keeps it.
    """
    while True:
        try:
            await tick()
        except Unavailable as error:
            logger.warning("%s pass failed; next in %.0f s: %s", name, interval, error)
        except Exception:
            logger.exception("%s pass failed; next in %.0f s", name, interval)
        await clock.sleep(interval)
