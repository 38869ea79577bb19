"""Adapters for the process itself: real time, ids and randomness."""

from vylux_adapters.system.clock import SystemClock
from vylux_adapters.system.entropy import OsEntropy
from vylux_adapters.system.id_generator import Uuid4IdGenerator

__all__ = ["OsEntropy", "SystemClock", "Uuid4IdGenerator"]
