"""Where the operator commands print: a rich console sized for a terminal or a pipe."""

from __future__ import annotations

import os

from rich.console import Console

PIPE_WIDTH = 160


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr) of the running command.

    Built per command, after click (or CliRunner) has set up the streams. Output that
    goes to a pipe or file gets a wide page instead of rich's 80 columns, so ids and
    errors stay on one line for grep; COLUMNS still wins.
    """
    terminal = Console(stderr=stderr, highlight=False)
    if terminal.is_terminal or os.environ.get("COLUMNS"):
        return terminal
    return Console(stderr=stderr, highlight=False, width=PIPE_WIDTH)
