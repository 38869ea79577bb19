"""Fault injection, hostile input and load: the fast tier runs in CI (docs/reliability.md)."""
