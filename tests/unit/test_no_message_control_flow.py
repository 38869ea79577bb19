"""The workflows decide on typed failures (``FailedStep``, ``FullFailure``), never on
error text: rewording a message must not change which stage failed or the retry plan."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

import vylux_core

CORE = Path(vylux_core.__file__).parent
SOURCES = sorted((CORE / "workflows").glob("*.py"))

# Code that reads text: prefix and suffix tests, substring tests on an error's or a
# message's text, comparisons with it, and regular expressions.
TEXT_READS = [
    re.compile(r"\.(startswith|endswith|removeprefix|removesuffix|partition|split)\("),
    re.compile(r"\bin\s+(str|repr|format)\("),
    re.compile(r"\bin\s+[\w.]*(message|error|cause|reason|text)\b(?!\w)"),
    re.compile(r"(message|cause|str\([^()]*\))\s*(==|!=)"),
    re.compile(r"(==|!=)\s*[\w.]*(message|cause)\b"),
    re.compile(r"\bre\.\w+\("),
]


def code_lines(source: str) -> list[tuple[int, str]]:
    """The source's lines with comments dropped and every string literal emptied, so
    that docstrings naming a message are not taken for code reading one."""
    lines = source.splitlines()
    blanked = [list(line) for line in lines]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        (start_row, start_col), (end_row, end_col) = token.start, token.end
        for row in range(start_row, end_row + 1):
            first = start_col if row == start_row else 0
            last = end_col if row == end_row else len(lines[row - 1])
            for col in range(first, last):
                blanked[row - 1][col] = " "
    return [(number, "".join(chars)) for number, chars in enumerate(blanked, start=1)]


def text_reads(source: str) -> list[str]:
    return [
        f"{number}: {line.strip()}"
        for number, line in code_lines(source)
        if any(pattern.search(line) for pattern in TEXT_READS)
    ]


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_workflow_control_flow_reads_no_error_text(path: Path) -> None:
    assert text_reads(path.read_text()) == []


@pytest.mark.parametrize(
    "line",
    [
        'if error.message.startswith("upload HLS"):',
        "upload = str(error).startswith('upload')",
        'if "upload" in message:',
        'if "upload" in str(error):',
        'if "upload" in failed.cause:',
        'cause = message.removeprefix(f"{prefix}: ")',
        'if str(error) == "boom":',
        'if failed.message != "x":',
        'step = re.match(r"^(\\w+):", message)',
    ],
)
def test_the_check_finds_a_text_read(line: str) -> None:
    source = (
        'def f(error, message, failed, prefix):\n    """upload HLS: in message"""\n'
        f"    {line}\n        pass\n"
    )
    assert text_reads(source) != []


def test_the_check_ignores_docstrings_and_comments() -> None:
    source = (
        'def f(error):\n    """Raises with ``upload HLS: …`` when "x" in message."""\n'
        '    # if error.message.startswith("upload HLS")\n    return error\n'
    )
    assert text_reads(source) == []
