"""Session-wide fixtures: real services (PostgreSQL, SQLite files) for every test folder."""

from tests.support.databases import postgres_url, sqlite_template
from tests.support.seaweedfs import s3_bucket, s3_clients, s3_server

__all__ = ["postgres_url", "s3_bucket", "s3_clients", "s3_server", "sqlite_template"]
