"""The configuration reference matches ``config.py`` and ``docs/configuration.md``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from vylux_cli import config, config_reference
from vylux_cli.config_reference import (
    GROUPS,
    VARIABLES,
    Variable,
    generated_section,
    render_markdown,
    update_document,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG_SOURCE = Path(config.__file__)
PAGE = ROOT / "docs" / "configuration.md"
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def _reader_class(tree: ast.Module) -> ast.ClassDef:
    return next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "_Reader"
    )


def _literal_arguments(reader: ast.ClassDef, parameter: str) -> set[str]:
    """String literals passed as the first argument to the reader's own methods whose
    first parameter (after ``self``) is called ``parameter``."""
    methods = {
        node.name
        for node in reader.body
        if isinstance(node, ast.FunctionDef)
        and len(node.args.args) > 1
        and node.args.args[1].arg == parameter
    }
    found: set[str] = set()
    for node in ast.walk(reader):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func
        if not (isinstance(target.value, ast.Name) and target.value.id == "self"):
            continue
        if target.attr not in methods or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add(first.value)
    return found


def _role_templates(reader: ast.ClassDef, roles: set[str]) -> set[str]:
    """``f"{role}_S3_ENDPOINT"``-style names, rendered for every role ``_s3`` gets.

    Only f-strings that start with the ``role`` placeholder, have no other one, and
    whose rest looks like the tail of a variable name count (error messages have
    other placeholders or spaces).
    """
    names: set[str] = set()
    for node in ast.walk(reader):
        if not isinstance(node, ast.JoinedStr):
            continue
        parts = node.values
        placeholders = [part for part in parts if isinstance(part, ast.FormattedValue)]
        if len(placeholders) != 1 or not isinstance(parts[0], ast.FormattedValue):
            continue
        placeholder = placeholders[0].value
        if not (isinstance(placeholder, ast.Name) and placeholder.id == "role"):
            continue
        tail = "".join(
            part.value
            for part in parts[1:]
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
        if re.fullmatch(r"_[A-Z0-9_]+", tail):
            names.update(role + tail for role in roles)
    return names


def _secret_names(tree: ast.Module) -> set[str]:
    """Keys of the ``SECRET_MIN_BYTES`` literal, which ``_secrets`` loops over."""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "SECRET_MIN_BYTES" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return {
                key.value
                for key in node.value.keys
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            }
    raise AssertionError("SECRET_MIN_BYTES literal not found in config.py")


def names_read_by_config() -> set[str]:
    tree = ast.parse(CONFIG_SOURCE.read_text(encoding="utf-8"))
    reader = _reader_class(tree)
    roles = _literal_arguments(reader, "role")
    return _literal_arguments(reader, "name") | _role_templates(reader, roles) | _secret_names(tree)


def test_the_ast_scan_finds_what_config_py_reads() -> None:
    # Guards the scanner itself: names of each kind it must find, and no S3 role.
    names = names_read_by_config()

    assert {"PORT", "LOG_LEVEL", "ENCRYPTION_KEY", "HMAC_SECRET"} <= names
    assert {"SOURCE_S3_ENDPOINT", "MEDIA_S3_REGION", "MEDIA_BUCKET"} <= names
    assert not {"SOURCE", "MEDIA"} & names
    assert all(_NAME.fullmatch(name) for name in names), sorted(names)


def test_every_variable_config_py_reads_is_documented() -> None:
    missing = names_read_by_config() - config_reference.variable_names()

    assert not missing, f"add to vylux_cli/config_reference.py: {sorted(missing)}"


def test_every_documented_variable_is_read_by_config_py() -> None:
    unknown = config_reference.variable_names() - names_read_by_config()

    assert not unknown, f"not read by vylux_cli/config.py: {sorted(unknown)}"


def test_variables_are_unique_and_grouped() -> None:
    names = [variable.name for variable in VARIABLES]

    assert len(names) == len(set(names))
    assert {variable.group for variable in VARIABLES} <= set(GROUPS)
    assert all(variable.description.endswith(".") for variable in VARIABLES)


def test_secret_flags_cover_the_secrets() -> None:
    secrets = {variable.name for variable in VARIABLES if variable.secret}

    assert set(config.SECRET_MIN_BYTES) <= secrets
    assert {"SOURCE_S3_SECRET_KEY", "MEDIA_S3_SECRET_KEY", "DATABASE_URL"} <= secrets


@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("PORT", "port"),
        ("WORKER_CONCURRENCY", "worker_concurrency"),
        ("LARGE_WORKER_CONCURRENCY", "large_worker_concurrency"),
        ("WORKER_METRICS_PORT", "worker_metrics_port"),
        ("MAX_FILE_SIZE", "max_file_size"),
        ("LARGE_FILE_THRESHOLD", "large_file_threshold"),
        ("CACHE_MAX_SIZE", "cache_max_size"),
        ("IMAGE_MAX_SOURCE_BYTES", "image_max_source_bytes"),
        ("IMAGE_MAX_PIXELS", "image_max_pixels"),
        ("MODE", "mode"),
        ("LOG_LEVEL", "log_level"),
        ("LOG_FORMAT", "log_format"),
    ],
)
def test_documented_defaults_are_the_config_defaults(name: str, attribute: str) -> None:
    documented = next(variable for variable in VARIABLES if variable.name == name)

    assert documented.default == str(getattr(config.load_config({}), attribute))


def test_the_page_holds_the_current_rendering() -> None:
    page = PAGE.read_text(encoding="utf-8")

    assert generated_section(page) == render_markdown(), (
        "docs/configuration.md is stale: run "
        "`python -m vylux_cli.config_reference --update docs/configuration.md`"
    )


def test_update_replaces_only_the_generated_section() -> None:
    document = (
        f"intro\n{config_reference.BEGIN_MARKER}\nold\n{config_reference.END_MARKER}\noutro\n"
    )

    updated = update_document(document)

    assert updated.startswith("intro\n")
    assert updated.endswith("outro\n")
    assert generated_section(updated) == render_markdown()
    assert update_document(updated) == updated


def test_render_escapes_pipes_and_refuses_unknown_groups() -> None:
    piped = Variable("X", "a", "one | two.", GROUPS[0])

    assert "one \\| two." in render_markdown([piped])
    with pytest.raises(ValueError, match="unknown groups"):
        render_markdown([Variable("Y", "", "y.", "nowhere")])
