"""SQL adapters: PostgreSQL (psycopg 3) and SQLite (aiosqlite) from one schema."""

from vylux_adapters.sql.database import create_engine, sqlite_url
from vylux_adapters.sql.image_cache_index import SqlImageCacheIndex
from vylux_adapters.sql.job_store import SqlJobStore
from vylux_adapters.sql.key_store import SqlKeyStore
from vylux_adapters.sql.migrate import downgrade, upgrade, upgrade_async
from vylux_adapters.sql.task_queue import SqlTaskQueue

__all__ = [
    "SqlImageCacheIndex",
    "SqlJobStore",
    "SqlKeyStore",
    "SqlTaskQueue",
    "create_engine",
    "downgrade",
    "sqlite_url",
    "upgrade",
    "upgrade_async",
]
