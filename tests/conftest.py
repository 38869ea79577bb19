"""Session-wide fixtures: real services (PostgreSQL, SQLite files) for every test folder."""

from tests.support.databases import postgres_url, sqlite_template

__all__ = ["postgres_url", "sqlite_template"]
