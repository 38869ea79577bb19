"""The composition root: the only module that chooses and builds adapters."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from attrs import frozen
from starlette.applications import Starlette

from vylux_adapters.http import create_app
from vylux_adapters.sql import (
    SqlImageCacheIndex,
    SqlJobStore,
    SqlKeyStore,
    create_engine,
    sqlite_url,
    upgrade_async,
)
from vylux_adapters.system import SystemClock
from vylux_cli.config import Config, S3Settings, load_config
from vylux_cli.embedded_secrets import with_embedded_secrets

logger = logging.getLogger(__name__)

DATABASE_FILE = "vylux.db"


@frozen(kw_only=True)
class Profile:
    """Which backend serves each role; decided from the configuration alone."""

    database_url: str
    queue: str  # "redis" | "sql"
    rate_limiter: str  # "redis" | "memory"
    source_store: S3Settings | Path
    media_store: S3Settings | Path

    def describe(self) -> str:
        database = "sqlite" if self.database_url.startswith("sqlite") else "postgresql"
        stores = [
            "s3" if isinstance(store, S3Settings) else f"local:{store}"
            for store in (self.source_store, self.media_store)
        ]
        return (
            f"database={database} queue={self.queue} rate_limiter={self.rate_limiter} "
            f"source={stores[0]} media={stores[1]}"
        )


def choose_profile(config: Config) -> Profile:
    """Embedded defaults for whatever is not configured; each role independently."""
    data_dir = config.data_dir.resolve()
    return Profile(
        database_url=config.database_url or sqlite_url(data_dir / DATABASE_FILE),
        queue="redis" if config.redis_url else "sql",
        rate_limiter="redis" if config.redis_url else "memory",
        source_store=config.source_s3 or data_dir / "source",
        media_store=config.media_s3 or data_dir / "media",
    )


def load_runtime_config(env: Mapping[str, str]) -> Config:
    """Configuration with the embedded profile's secrets filled in when needed.

    Without DATABASE_URL, missing secrets are generated once into the data
    directory; with it, they must be given (``load_config`` reports them).
    """
    if env.get("DATABASE_URL", "").strip():
        return load_config(env)
    data_dir = Path(env.get("VYLUX_DATA_DIR", "").strip() or "./vylux-data")
    merged, secrets_path = with_embedded_secrets(env, data_dir)
    logger.info("embedded profile: secrets are kept in %s", secrets_path)
    return load_config(merged)


def prepare_data_dir(profile: Profile) -> None:
    """Create the local directories the embedded roles use."""
    for store in (profile.source_store, profile.media_store):
        if isinstance(store, Path):
            store.mkdir(parents=True, exist_ok=True)
    if profile.database_url.startswith("sqlite"):
        Path(profile.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )


async def migrate(profile: Profile) -> None:
    prepare_data_dir(profile)
    await upgrade_async(profile.database_url)


@frozen(kw_only=True)
class Persistence:
    jobs: SqlJobStore
    keys: SqlKeyStore
    cache_index: SqlImageCacheIndex


@asynccontextmanager
async def open_persistence(profile: Profile) -> AsyncIterator[Persistence]:
    """Migrate, then open the database stores; closes the engine on exit."""
    await migrate(profile)
    engine = create_engine(profile.database_url)
    clock = SystemClock()
    try:
        yield Persistence(
            jobs=SqlJobStore(engine=engine, clock=clock),
            keys=SqlKeyStore(engine=engine, clock=clock),
            cache_index=SqlImageCacheIndex(engine=engine, clock=clock),
        )
    finally:
        await engine.dispose()


@asynccontextmanager
async def build_server(config: Config) -> AsyncIterator[Starlette]:
    """Everything ``vylux-cli serve`` runs, opened in order and closed in reverse."""
    profile = choose_profile(config)
    logger.info("starting: %s", profile.describe())
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(open_persistence(profile))
        yield create_app()
