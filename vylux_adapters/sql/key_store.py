"""SqlKeyStore: the KeyStore port on the ``encryption_keys`` table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from vylux_adapters.sql.errors import database_errors
from vylux_adapters.sql.job_store import as_utc
from vylux_adapters.sql.schema import encryption_keys
from vylux_core.ports.clock import Clock
from vylux_core.ports.key_store import StoredKey
from vylux_core.security.key_ring import AadScheme, WrappedKey


class SqlKeyStore:
    def __init__(self, *, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def get(self, media_hash: str) -> StoredKey | None:
        with database_errors("get key"):
            async with self._engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(encryption_keys).where(encryption_keys.c.hash == media_hash)
                    )
                ).first()
        return None if row is None else _row_to_key(row._mapping)

    async def put_if_absent(self, key: StoredKey) -> StoredKey:
        values = {
            "hash": key.media_hash,
            "wrapped_key": key.wrapped.wrapped_key,
            "wrap_nonce": key.wrapped.nonce,
            "kek_version": key.wrapped.kek_version,
            "aad_scheme": key.wrapped.aad_scheme.value,
            "kid": key.kid,
            "scheme": key.scheme,
            "key_uri": key.key_uri,
            "created_at": self._clock.now(),
        }
        with database_errors("store key"):
            async with self._engine.begin() as conn:
                await conn.execute(
                    self._insert(encryption_keys).values(**values).on_conflict_do_nothing()
                )
                row = (
                    await conn.execute(
                        select(encryption_keys).where(encryption_keys.c.hash == key.media_hash)
                    )
                ).one()
        return _row_to_key(row._mapping)

    async def replace_wrapping(self, media_hash: str, old: WrappedKey, new: WrappedKey) -> bool:
        table = encryption_keys.c
        with database_errors("rewrap key"):
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    update(encryption_keys)
                    .where(
                        table.hash == media_hash,
                        table.wrapped_key == old.wrapped_key,
                        table.wrap_nonce == old.nonce,
                        table.kek_version == old.kek_version,
                        table.aad_scheme == old.aad_scheme.value,
                    )
                    .values(
                        wrapped_key=new.wrapped_key,
                        wrap_nonce=new.nonce,
                        kek_version=new.kek_version,
                        aad_scheme=new.aad_scheme.value,
                    )
                )
        return bool(result.rowcount == 1)

    async def list_for_rewrap(
        self, current_version: str, after_hash: str, limit: int
    ) -> list[StoredKey]:
        table = encryption_keys.c
        query = (
            select(encryption_keys)
            .where(
                table.hash > after_hash,
                or_(
                    table.kek_version != current_version,
                    table.aad_scheme != AadScheme.VERSION_AND_HASH.value,
                ),
            )
            .order_by(table.hash)
            .limit(limit)
        )
        with database_errors("list keys for rewrap"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return [_row_to_key(row._mapping) for row in rows]

    async def delete(self, media_hash: str) -> bool:
        with database_errors("delete key"):
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    encryption_keys.delete().where(encryption_keys.c.hash == media_hash)
                )
        return bool(result.rowcount)


def _row_to_key(row: Any) -> StoredKey:
    return StoredKey(
        media_hash=row["hash"],
        wrapped=WrappedKey(
            media_hash=row["hash"],
            wrapped_key=bytes(row["wrapped_key"]),
            nonce=bytes(row["wrap_nonce"]),
            kek_version=row["kek_version"],
            aad_scheme=AadScheme(row["aad_scheme"]),
        ),
        kid=row["kid"],
        scheme=row["scheme"],
        key_uri=row["key_uri"],
        created_at=as_utc(row["created_at"]),
    )
