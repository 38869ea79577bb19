"""Session-wide fixtures: real services (PostgreSQL, SQLite files) for every test folder."""

from hypothesis import HealthCheck, settings

from tests.support.databases import postgres_url, sqlite_template
from tests.support.seaweedfs import s3_bucket, s3_clients, s3_server

__all__ = ["postgres_url", "s3_bucket", "s3_clients", "s3_server", "sqlite_template"]

# Hypothesis's per-example deadline (200 ms) and its "too slow" health check judge speed,
# so on a busy machine they fail properties that hold. Hangs are bounded the suite's way
# (tests/support/deadlines.py); speed is measured in bench/.
settings.register_profile("vylux", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vylux")
