"""The configuration every command reads, and where the embedded profile keeps things.

Kept apart from ``bootstrap`` (which imports every adapter) so that ``sign`` and
``key-token`` read exactly the configuration ``serve`` reads without loading the
database, queue, storage and HTTP stacks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from vylux_cli.config import Config, load_config
from vylux_cli.embedded_secrets import with_embedded_secrets
from vylux_cli.settings import DATABASE_URL, VYLUX_DATA_DIR

logger = logging.getLogger(__name__)

# Below VYLUX_DATA_DIR, for the roles the embedded profile serves locally.
DATABASE_FILE = "vylux.db"
SOURCE_DIR = "source"
MEDIA_DIR = "media"


def embedded_data_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get(VYLUX_DATA_DIR.name, "").strip() or VYLUX_DATA_DIR.default)


def load_runtime_config(env: Mapping[str, str]) -> Config:
    """Configuration with the embedded profile's secrets filled in when needed.

    Without DATABASE_URL, missing secrets are generated once into the data
    directory; with it, they must be given (``load_config`` reports them). Raises
    ``OSError`` when the data directory cannot hold the secrets file.
    """
    if env.get(DATABASE_URL.name, "").strip():
        return load_config(env)
    merged, secrets_path = with_embedded_secrets(env, embedded_data_dir(env))
    logger.info("embedded profile: secrets are kept in %s", secrets_path)
    return load_config(merged)


def local_source_dir(config: Config) -> Path | None:
    """The directory of the source store when it is local (no SOURCE_S3_* settings)."""
    return None if config.source_s3 is not None else config.data_dir.resolve() / SOURCE_DIR


def embedded_database_path(config: Config) -> Path:
    """The SQLite file of the embedded profile (used when DATABASE_URL is not set)."""
    return config.data_dir.resolve() / DATABASE_FILE
