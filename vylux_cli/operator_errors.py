"""How the operator commands fail: ``Error: <message>`` on stderr and an exit code.

Kept apart from ``main`` so that the command modules do not import the module that
registers them (a cycle), and so that every operator command maps the core's errors
to the same exit codes (:mod:`vylux_cli.command_config`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
import httpx

from vylux_cli.command_config import EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE, load_config
from vylux_cli.runtime_config import embedded_database_path
from vylux_cli.startup import database_error
from vylux_core.errors import DatabaseUnavailable, InvalidInput, Unavailable, VyluxError

T = TypeVar("T")


class OperatorError(click.ClickException):
    """A failure reported as ``Error: <message>`` on stderr, exit code 1."""

    exit_code = EXIT_FAILURE


class RejectedError(OperatorError):
    """Invalid arguments, configuration or request: exit code 2."""

    exit_code = EXIT_USAGE


class UnreachableError(OperatorError):
    """A dependency cannot be reached: exit code 3."""

    exit_code = EXIT_UNAVAILABLE


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` and turn the core's errors into exit codes."""
    try:
        return asyncio.run(coroutine)
    except DatabaseUnavailable as exc:
        # The adapter's message names only the operation; say which database and why.
        config = load_config()
        found = database_error(config.database_url, embedded_database_path(config))
        error_class = RejectedError if found.exit_code == EXIT_USAGE else UnreachableError
        raise error_class(str(found)) from exc
    except Unavailable as exc:
        raise UnreachableError(str(exc)) from exc
    except InvalidInput as exc:
        raise RejectedError(str(exc)) from exc
    except VyluxError as exc:  # not found, conflicts, failed processing
        raise OperatorError(str(exc)) from exc
    except httpx.TransportError as exc:
        raise UnreachableError(f"cannot reach the API: {exc}") from exc
