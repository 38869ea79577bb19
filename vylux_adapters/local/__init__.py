"""Local-directory adapters: the ObjectStore port on a directory (embedded profile)."""

from vylux_adapters.local.object_store import LocalDirObjectStore, LocalObjectReader

__all__ = ["LocalDirObjectStore", "LocalObjectReader"]
