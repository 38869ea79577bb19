"""SqlImageCacheIndex: the ImageCacheIndex port on ``image_cache_entries``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from vylux_adapters.sql.errors import database_errors
from vylux_adapters.sql.schema import image_cache_entries
from vylux_core.ports.clock import Clock
from vylux_core.ports.image_cache_index import CacheEntry


class SqlImageCacheIndex:
    def __init__(self, *, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def record(self, entry: CacheEntry) -> None:
        now = self._clock.now()
        statement = (
            self._insert(image_cache_entries)
            .values(
                hash=entry.media_hash,
                storage_key=entry.storage_key,
                cache_key=entry.cache_key,
                created_at=now,
            )
            .on_conflict_do_update(
                index_elements=["hash", "storage_key"],
                set_={"cache_key": entry.cache_key, "created_at": now},
            )
        )
        with database_errors("record cache entry"):
            async with self._engine.begin() as conn:
                await conn.execute(statement)

    async def list_by_hash(self, media_hash: str) -> list[CacheEntry]:
        table = image_cache_entries.c
        query = select(table.hash, table.cache_key, table.storage_key).where(
            table.hash == media_hash
        )
        with database_errors("list cache entries"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return [CacheEntry(row.hash, row.cache_key, row.storage_key) for row in rows]

    async def delete_by_hash(self, media_hash: str) -> int:
        with database_errors("delete cache entries"):
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    image_cache_entries.delete().where(image_cache_entries.c.hash == media_hash)
                )
        return int(result.rowcount)
