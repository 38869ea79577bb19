"""Configuration parsing and validation (http-api §11, U19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vylux_cli.config import ConfigError, load_config, read_environment
from vylux_cli.go_duration import parse_go_duration

HEX32 = "ab" * 32
HEX16 = "cd" * 16
SECRETS = {
    "HMAC_SECRET": HEX32,
    "API_KEY": HEX32,
    "WEBHOOK_SECRET": HEX32,
    "KEY_TOKEN_SECRET": HEX16,
    "ENCRYPTION_KEY": HEX32,
}
SERVER = {"DATABASE_URL": "postgresql://vylux@db.internal:5432/vylux", **SECRETS}


def problems_of(env: dict[str, str]) -> list[str]:
    try:
        load_config(env)
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({"PORT": "0"}, "PORT must be between 1 and 65535", id="port-zero"),
        pytest.param({"PORT": "70000"}, "PORT must be between 1 and 65535", id="port-high"),
        pytest.param({"PORT": "http"}, "PORT must be an integer", id="port-text"),
        pytest.param(
            {"WORKER_METRICS_PORT": "-1"}, "WORKER_METRICS_PORT must be between 0 and 65535",
            id="metrics-port-negative",
        ),
        pytest.param(
            {"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY must be at least 1", id="concurrency"
        ),
        pytest.param(
            {"LARGE_WORKER_CONCURRENCY": "0"}, "LARGE_WORKER_CONCURRENCY must be at least 1",
            id="large-concurrency",
        ),
        pytest.param(
            {"LARGE_FILE_THRESHOLD": "11", "MAX_FILE_SIZE": "10"},
            "LARGE_FILE_THRESHOLD must be less than or equal to MAX_FILE_SIZE",
            id="threshold-over-max",
        ),
        pytest.param(
            {"LARGE_FILE_THRESHOLD": "0"}, "LARGE_FILE_THRESHOLD must be at least 1", id="threshold"
        ),
        pytest.param({"MAX_FILE_SIZE": "0"}, "MAX_FILE_SIZE must be at least 1", id="max-size"),
        pytest.param(
            {"DATABASE_URL": "postgres:///vylux"}, "DATABASE_URL must include a host", id="db-host"
        ),
        pytest.param(
            {"DATABASE_URL": "mysql://db/vylux"},
            "DATABASE_URL must start with postgres:// or postgresql://",
            id="db-scheme",
        ),
        pytest.param(
            {"REDIS_URL": "http://cache:6379"}, "REDIS_URL must be a valid redis URL", id="redis"
        ),
        pytest.param(
            {"BASE_URL": "ftp://media.example.com"}, "BASE_URL must use http:// or https://",
            id="base-url-scheme",
        ),
        pytest.param(
            {"SOURCE_S3_ENDPOINT": "http://", "SOURCE_S3_ACCESS_KEY": "a",
             "SOURCE_S3_SECRET_KEY": "b", "SOURCE_BUCKET": "src"},
            "SOURCE_S3_ENDPOINT must include a host",
            id="source-endpoint-host",
        ),
        pytest.param(
            {"MEDIA_S3_ENDPOINT": "s3.example.com", "MEDIA_S3_ACCESS_KEY": "a",
             "MEDIA_S3_SECRET_KEY": "b", "MEDIA_BUCKET": "media"},
            "MEDIA_S3_ENDPOINT must use http:// or https://",
            id="media-endpoint-scheme",
        ),
        pytest.param(
            {"MEDIA_S3_ENDPOINT": "http://s3:9000"},
            "MEDIA_S3_ACCESS_KEY is required when MEDIA_S3_* is configured",
            id="media-partial",
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318/v1/traces"},
            "OTEL_EXPORTER_OTLP_ENDPOINT without a scheme must be host[:port] only",
            id="otel-path-without-scheme",
        ),
        pytest.param({"MODE": "both"}, 'MODE must be all|server|worker, got "both"', id="mode"),
        pytest.param(
            {"HMAC_SECRET": "zz" * 32},
            "HMAC_SECRET is not valid hex (generate with: openssl rand -hex 32)",
            id="secret-not-hex",
        ),
        pytest.param(
            {"KEY_TOKEN_SECRET": "ab" * 8},
            "KEY_TOKEN_SECRET must be at least 32 hex chars (128-bit), got 16",
            id="secret-short",
        ),
        pytest.param(
            {"ENCRYPTION_KEY": "ab" * 33},
            "ENCRYPTION_KEY must be exactly 64 hex chars (256-bit), got 66",
            id="kek-too-long",
        ),
        pytest.param(
            {"ENCRYPTION_KEY": f"v2:{HEX32},v1"},
            "ENCRYPTION_KEY entries must look like <version>:<64 hex>",
            id="kek-list-malformed",
        ),
        pytest.param(
            {"SHUTDOWN_TIMEOUT": "10"}, "SHUTDOWN_TIMEOUT: invalid duration", id="duration"
        ),
        pytest.param(
            {"WORKER_LEASE_TIMEOUT": "2s"}, "WORKER_LEASE_TIMEOUT must be at least 3s",
            id="lease-too-short",
        ),
        pytest.param(
            {"RECONCILE_INTERVAL": "0s"}, "RECONCILE_INTERVAL must be more than zero",
            id="reconcile-interval-zero",
        ),
        pytest.param(
            {"ALLOW_PRIVATE_CALLBACKS": "maybe"}, "ALLOW_PRIVATE_CALLBACKS must be true or false",
            id="bool",
        ),
        pytest.param(
            {"CORS_ALLOWED_ORIGINS": "app.example.com"},
            "CORS_ALLOWED_ORIGINS entries must be origins like https://app.example.com[:port]",
            id="origin-without-scheme",
        ),
        pytest.param(
            {"CORS_ALLOWED_ORIGINS": "https://app.example.com/player"},
            "CORS_ALLOWED_ORIGINS entries must be origins", id="origin-with-path",
        ),
        pytest.param(
            {"STREAM_CORS_ALLOWED_ORIGINS": "https://a.example:99999"},
            "STREAM_CORS_ALLOWED_ORIGINS entries must be origins", id="origin-bad-port",
        ),
        pytest.param(
            {"STREAM_CORS_ALLOWED_ORIGINS": "*,https://a.example"},
            'STREAM_CORS_ALLOWED_ORIGINS: "*" cannot be combined', id="origin-star-and-list",
        ),
    ],
)  # fmt: skip
def test_invalid_settings_are_reported_by_name(env: dict[str, str], message: str) -> None:
    problems = problems_of({**SERVER, **env})
    assert any(message in problem for problem in problems), problems


def test_server_profile_requires_every_secret_and_names_them() -> None:
    problems = problems_of({"DATABASE_URL": "postgresql://postgres@127.0.0.1/vylux"})
    assert [p.split()[0] for p in problems] == [
        "HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET", "KEY_TOKEN_SECRET", "ENCRYPTION_KEY"
    ]  # fmt: skip


def test_defaults_and_embedded_profile() -> None:
    config = load_config({})
    assert (config.embedded, config.port, config.mode, config.worker_concurrency) == (
        True, 3000, "all", 10
    )  # fmt: skip
    assert (config.large_file_threshold, config.max_file_size) == (5_368_709_120, 53_687_091_200)
    assert (config.shutdown_timeout, config.worker_shutdown_timeout) == (30.0, 600.0)
    assert (config.reconcile_interval, config.reconcile_grace) == (60.0, 30.0)
    assert config.worker_lease_timeout == 30.0
    assert (config.source_s3, config.media_s3, config.redis_url) == (None, None, None)


@pytest.mark.parametrize(
    ("env", "key_origins", "stream_origins"),
    [
        pytest.param({}, (), ("*",), id="defaults"),
        pytest.param(
            {"CORS_ALLOWED_ORIGINS": " https://App.Example.com/ , http://localhost:8080"},
            ("https://app.example.com", "http://localhost:8080"),
            ("*",),
            id="list-normalised-like-the-origin-header",
        ),
        pytest.param(
            {"CORS_ALLOWED_ORIGINS": "*", "STREAM_CORS_ALLOWED_ORIGINS": "none"},
            ("*",),
            (),
            id="any-and-none",
        ),
        pytest.param({"STREAM_CORS_ALLOWED_ORIGINS": ""}, (), ("*",), id="empty-is-default"),
    ],
)
def test_cors_origins(
    env: dict[str, str], key_origins: tuple[str, ...], stream_origins: tuple[str, ...]
) -> None:
    config = load_config(env)
    assert (config.cors_allowed_origins, config.stream_cors_allowed_origins) == (
        key_origins,
        stream_origins,
    )


def test_trailing_slashes_are_removed_then_validation_is_clean() -> None:
    config = load_config(
        {
            **SERVER,
            "BASE_URL": "https://media.example.com/",
            "SOURCE_S3_ENDPOINT": "https://s3.example.com/",
            "SOURCE_S3_ACCESS_KEY": "access",
            "SOURCE_S3_SECRET_KEY": "secret",
            "SOURCE_BUCKET": "source",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
        }
    )
    assert config.base_url == "https://media.example.com"
    assert config.source_s3 is not None
    assert config.source_s3.endpoint == "https://s3.example.com"
    assert (config.source_s3.region, config.otel_endpoint) == ("auto", "http://collector:4318")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("debug", "DEBUG", id="lower-case"),
        pytest.param("warning", "WARN", id="warning-alias"),
        pytest.param("chatty", "INFO", id="unknown-is-info"),
    ],
)
def test_log_level(value: str, expected: str) -> None:
    assert load_config({"LOG_LEVEL": value}).log_level == expected


def test_secrets_never_appear_in_reprs_or_messages() -> None:
    config = load_config({**SERVER, "REDIS_URL": "redis://:hunter2@cache:6379/0"})
    problems = problems_of({**SERVER, "API_KEY": "xyz" + HEX32})
    text = repr(config) + " ".join(problems)
    for secret in (HEX32, HEX16, "hunter2", "xyz"):
        assert secret not in text


def test_rotation_list_for_encryption_key_is_accepted() -> None:
    config = load_config({**SERVER, "ENCRYPTION_KEY": f"v2:{HEX32},v1:{'ef' * 32}"})
    assert config.secrets.encryption_key.startswith("v2:")


def test_environment_wins_over_dotenv_files(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=4000\nMODE=server\nBASE_URL=https://a.example\n")
    (tmp_path / ".env.local").write_text("MODE=worker\n")
    merged = read_environment({"PORT": "5000"}, tmp_path)
    assert (merged["PORT"], merged["MODE"], merged["BASE_URL"]) == (
        "5000", "worker", "https://a.example"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("30s", 30.0, id="seconds"),
        pytest.param("1m30s", 90.0, id="compound"),
        pytest.param("300ms", 0.3, id="millis"),
        pytest.param("1.5h", 5400.0, id="fraction"),
        pytest.param("0", 0.0, id="bare-zero"),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "1x", "m", "1m30"])
def test_invalid_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_go_duration(text)


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        pytest.param({}, True, id="embedded-on-by-default"),
        pytest.param({"DASHBOARD_ENABLED": "false"}, False, id="embedded-turned-off"),
        pytest.param(SERVER, False, id="server-off-by-default"),
        pytest.param({**SERVER, "DASHBOARD_ENABLED": "on"}, True, id="server-opt-in"),
    ],
)
def test_dashboard_enabled(env: dict[str, str], enabled: bool) -> None:
    assert load_config(env).dashboard_enabled is enabled


def test_dashboard_enabled_must_be_a_boolean() -> None:
    assert problems_of({"DASHBOARD_ENABLED": "maybe"}) == [
        "DASHBOARD_ENABLED must be true or false, got 'maybe'"
    ]
