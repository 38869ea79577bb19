"""The configuration every command runs on, and the exit codes every command ends with.

Exit codes: 0 success, 1 failure, 2 invalid configuration or arguments, 3 a dependency
(database, queue, storage, the API server) unreachable.

:func:`load_config` is the one way a command reads its configuration: it fills in the
embedded profile's secrets, registers every secret for masking in the logs, and ends
the command with exit code 2 and one line per problem when the configuration is bad.
Only light modules are imported here: ``sign`` and ``key-token`` load nothing else.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import NoReturn

import click

from vylux_cli import logging_setup
from vylux_cli.config import Config, ConfigError, environment_with_defaults
from vylux_cli.runtime_config import embedded_data_dir, load_runtime_config

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


class StartupError(Exception):
    """A failure before a command can do its work: ``str(self)`` is the one line to
    print, ``exit_code`` the code to end with."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_config() -> Config:
    """The runtime configuration, its secrets masked in the logs from now on; ends the
    command with exit code 2 when it is invalid or the data directory is not writable."""
    try:
        config = load_runtime_config(environment_with_defaults())
    except ConfigError as exc:
        exit_on_config_error(exc)
    except OSError as exc:  # the embedded profile's secrets file cannot be written
        exit_on(data_dir_error(embedded_data_dir(environment_with_defaults()), exc))
    logging_setup.register_secrets(config)
    return config


def exit_on(error: StartupError) -> NoReturn:
    click.echo(f"ERROR: {error}", err=True)
    raise SystemExit(error.exit_code) from None


def exit_on_config_error(error: ConfigError) -> NoReturn:
    for line in config_error_lines(error.problems):
        click.echo(line, err=True)
    raise SystemExit(EXIT_USAGE) from None


def config_error_lines(problems: list[str]) -> list[str]:
    """An invalid configuration for stderr: one line for one problem, else a list."""
    if len(problems) == 1:
        return [f"ERROR: invalid configuration: {problems[0]}"]
    return ["ERROR: invalid configuration:", *(f"  - {problem}" for problem in problems)]


def data_dir_error(data_dir: Path, exc: OSError) -> StartupError:
    where = exc.filename if exc.filename is not None else data_dir
    return StartupError(
        f"data directory {data_dir} is not writable: cannot create {where}: {os_error_reason(exc)}",
        EXIT_USAGE,
    )


def os_error_reason(exc: OSError) -> str:
    """A short lower-case reason for ``exc`` (``connection refused``, ``unknown host …``)."""
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return (exc.strerror or type(exc).__name__).lower()
