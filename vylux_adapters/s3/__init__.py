"""S3 adapters: the ObjectStore port on one bucket of an S3-compatible server (boto3)."""

from vylux_adapters.s3.client import S3BucketSettings, S3Clients, S3Tuning, build_clients
from vylux_adapters.s3.object_store import S3ObjectStore
from vylux_adapters.s3.reader import S3ObjectReader

__all__ = [
    "S3BucketSettings",
    "S3Clients",
    "S3ObjectReader",
    "S3ObjectStore",
    "S3Tuning",
    "build_clients",
]
