"""Package roots that export names without importing every module behind them.

A package's ``__init__`` maps each exported name to its module; the module loads the
first time the name is used (PEP 562). So a program that needs one default from one
service module (the configuration, a short CLI command) does not pay for importing
every service, port and worker module of the core.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attribute(package: str, exports: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``exports`` maps a module to the
    names of it the package exports; names listed under ``package`` itself are its
    submodules."""
    homes = {name: module for module, names in exports.items() for name in names}

    def attribute(name: str) -> Any:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module == package:
            return importlib.import_module(f"{package}.{name}")
        return getattr(importlib.import_module(module), name)

    return attribute
