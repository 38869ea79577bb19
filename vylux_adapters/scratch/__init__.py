"""Scratch directories on the local file system for video work."""

from vylux_adapters.scratch.local_scratch import LocalScratchSpace

__all__ = ["LocalScratchSpace"]
