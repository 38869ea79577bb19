"""Translating database driver failures into core errors at the adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from vylux_core.errors import DatabaseUnavailable


@contextmanager
def database_errors(operation: str) -> Iterator[None]:
    """Re-raise connection-level failures as ``DatabaseUnavailable``.

    Programming errors (bad SQL, constraint violations the adapter did not expect)
    are left alone: they are bugs, not outages. The message names the operation only;
    driver texts can carry host names and credentials.
    """
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, OSError) as error:
        raise DatabaseUnavailable(f"database unavailable during {operation}") from error
    except exc.DBAPIError as error:
        if error.connection_invalidated:
            raise DatabaseUnavailable(f"database unavailable during {operation}") from error
        raise
