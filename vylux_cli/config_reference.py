"""The configuration reference, rendered from the declarations in ``settings.py``.

``docs/configuration.md`` embeds :func:`render_markdown` and ``.env.example`` embeds
:func:`render_env_example`, each between two markers; a test fails when either file
holds something else. Regenerate both after changing a setting::

    python -m vylux_cli.config_reference --update docs/configuration.md .env.example

Without arguments the tables are printed to stdout; ``--check PATH…`` exits 1 when a
file is stale. This module only renders; ``config.py`` parses and validates.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from attrs import frozen

from vylux_cli.settings import GROUPS, SETTINGS, Kind, Setting

_COMMAND: Final = "python -m vylux_cli.config_reference"


@frozen
class Markers:
    """The lines around a generated section of a document."""

    begin: str
    end: str


MARKDOWN_MARKERS: Final = Markers(f"<!-- BEGIN GENERATED: {_COMMAND} -->", "<!-- END GENERATED -->")
ENV_MARKERS: Final = Markers(
    f"# ---- BEGIN GENERATED: {_COMMAND} --update .env.example", "# ---- END GENERATED"
)

_ENV_RULE_WIDTH: Final = 88


def variable_names() -> frozenset[str]:
    return frozenset(setting.name for setting in SETTINGS)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def default_text(setting: Setting) -> str:
    """The default as the page shows it; ``—`` for none."""
    if setting.profile_default is not None:
        embedded, server = (str(value).lower() for value in setting.profile_default)
        return f"`{embedded}` (embedded), `{server}` (server)"
    return f"`{setting.default}`" if setting.default else "—"


def type_text(setting: Setting) -> str:
    """The kind of value with its bounds: ``integer ≥ 1``, ``port 0–65535``."""
    kind, low, high = setting.kind, setting.low, setting.high
    if kind is Kind.CHOICE:
        return " | ".join(f"`{choice}`" for choice in setting.choices)
    bounds = ""
    if low is not None and high is not None:
        bounds = f" {low}–{high}"
    elif kind is Kind.DURATION and low is not None:
        bounds = f" ≥ {low}s"
    elif low is not None:
        bounds = f" ≥ {low}"
    elif setting.positive:
        bounds = " > 0"
    if kind is Kind.HEX_SECRET:
        return f"hex, ≥ {setting.min_bytes} bytes"
    return f"{kind.value}{bounds}"


def render_markdown(settings: Sequence[Setting] = SETTINGS) -> str:
    """One table per group, in :data:`GROUPS` order; ends with a newline."""
    unknown = sorted({setting.group.title for setting in settings if setting.group not in GROUPS})
    if unknown:
        raise ValueError(f"settings in unknown groups: {', '.join(unknown)}")
    sections: list[str] = []
    for group in GROUPS:
        members = [setting for setting in settings if setting.group == group]
        if not members:
            continue
        lines = [
            f"### {group.title}",
            "",
            "| Variable | Type | Default | Secret | Meaning |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| `{setting.name}` | {_cell(type_text(setting))} | {_cell(default_text(setting))} "
            f"| {'yes' if setting.secret else ''} | {_cell(setting.help)} |"
            for setting in members
        ]
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def render_env_example(settings: Sequence[Setting] = SETTINGS) -> str:
    """Every setting at its default under its one-line comment, grouped as the page."""
    sections: list[str] = []
    for group in GROUPS:
        members = [setting for setting in settings if setting.group == group]
        if not members:
            continue
        rule = f"# ---- {group.env_note} "
        lines = [rule + "-" * max(4, _ENV_RULE_WIDTH - len(rule))]
        for setting in members:
            # A profile-dependent default is left empty: empty means "the default".
            value = "" if setting.profile_default is not None else setting.default
            lines += [f"# {setting.env_help}", f"{setting.name}={value}"]
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def generated_section(document: str, markers: Markers = MARKDOWN_MARKERS) -> str:
    """The text between the markers of ``document``; raises ValueError without them."""
    start = document.find(markers.begin)
    end = document.find(markers.end)
    if start < 0 or end < start:
        raise ValueError(f"markers not found: {markers.begin} … {markers.end}")
    return document[start + len(markers.begin) : end].strip("\n") + "\n"


def _replace_section(document: str, markers: Markers, text: str) -> str:
    generated_section(document, markers)  # validates the markers
    head, _, rest = document.partition(markers.begin)
    _, _, tail = rest.partition(markers.end)
    return f"{head}{markers.begin}\n{text}{markers.end}{tail}"


def update_document(document: str) -> str:
    """``document`` with the text between the Markdown markers replaced by the tables."""
    return _replace_section(document, MARKDOWN_MARKERS, render_markdown())


def update_env_example(document: str) -> str:
    """``.env.example`` text with its generated section replaced by the current one."""
    return _replace_section(document, ENV_MARKERS, render_env_example())


def updated(path: Path) -> str:
    """The content ``path`` should have: ``.env*`` files get the variables, the rest tables."""
    document = path.read_text(encoding="utf-8")
    if path.name.startswith(".env"):
        return update_env_example(document)
    return update_document(document)


def main(argv: Sequence[str]) -> int:
    if not argv:
        sys.stdout.write(render_markdown())
        return 0
    command, paths = argv[0], [Path(arg) for arg in argv[1:]]
    if command == "--update" and paths:
        for path in paths:
            path.write_text(updated(path), encoding="utf-8")
        return 0
    if command == "--check" and paths:
        stale = [path for path in paths if updated(path) != path.read_text(encoding="utf-8")]
        for path in stale:
            sys.stderr.write(f"{path} is stale: run {_COMMAND} --update {path}\n")
        return 1 if stale else 0
    sys.stderr.write(f"usage: {_COMMAND} [--update PATH… | --check PATH…]\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
