"""vylux_core stays pure: no I/O library, no adapter, no subprocess (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "vylux_core"
ALLOWED_THIRD_PARTY = {"attrs", "cattrs", "cryptography", "opentelemetry"}
FORBIDDEN = {
    "starlette", "hypercorn", "sqlalchemy", "psycopg", "psycopg_pool", "aiosqlite", "alembic",
    "redis", "boto3", "botocore", "pyvips", "httpx", "prometheus_client", "subprocess",
    "vylux_adapters", "vylux_cli", "socket", "ssl", "urllib.request", "http.client",
    "opentelemetry.sdk", "shutil", "tempfile",
}  # fmt: skip
FORBIDDEN_CALLS = {"create_subprocess_exec", "create_subprocess_shell", "system", "popen"}


def _core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def _imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _violations(name: str) -> bool:
    top = name.split(".")[0]
    if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
        return True
    if top == "vylux_core" or top in sys.stdlib_module_names:
        return False
    if top == "opentelemetry":
        return not (
            name == "opentelemetry"
            or name.startswith(
                ("opentelemetry.trace", "opentelemetry.context", "opentelemetry.propagate")
            )
        )
    return top not in ALLOWED_THIRD_PARTY


@pytest.mark.parametrize("module", _core_modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_only_pure_libraries(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    bad_imports = sorted(name for name in _imported_names(tree) if _violations(name))
    bad_calls = sorted(
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in FORBIDDEN_CALLS
    )
    assert (bad_imports, bad_calls) == ([], [])


def test_core_imports_with_adapter_libraries_unavailable() -> None:
    # A fresh interpreter in which every forbidden library fails to import: importing
    # every core module must still work.
    # Standard-library modules are only banned from direct import (the AST test above):
    # the stdlib and cryptography use some of them internally.
    blocked = sorted(n for n in FORBIDDEN if "." not in n and n not in sys.stdlib_module_names)
    script = textwrap.dedent(
        f"""
        import importlib, importlib.abc, pkgutil, sys

        BLOCKED = {blocked!r}

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"blocked for the purity test: {{name}}")
                return None

        sys.meta_path.insert(0, Blocker())
        import vylux_core
        for info in pkgutil.walk_packages(vylux_core.__path__, "vylux_core."):
            importlib.import_module(info.name)
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not leaked, leaked
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
