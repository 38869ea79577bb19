"""The setting declarations drive the loader, ``docs/configuration.md`` and ``.env.example``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from vylux_adapters.http.settings import HttpSettings, RateLimit
from vylux_adapters.vips import VipsLimits
from vylux_cli import config, config_reference, settings
from vylux_cli.config import ConfigError, load_config
from vylux_cli.config_reference import (
    ENV_MARKERS,
    MARKDOWN_MARKERS,
    generated_section,
    render_env_example,
    render_markdown,
    update_document,
    update_env_example,
)
from vylux_cli.settings import GROUPS, SETTINGS, Group, Kind, Setting
from vylux_core.images.limits import ImageLimits
from vylux_core.jobs.limits import JobLimits
from vylux_core.worker.reconcile_schedule import DEFAULT_RECONCILE_GRACE, DEFAULT_RECONCILE_INTERVAL

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = ROOT / ".env.example"
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


class _RecordingEnvironment(dict[str, str]):
    """An environment that notes every name the loader asks for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def test_the_loader_reads_exactly_the_declared_settings() -> None:
    # Every branch that reads a variable taken: S3 roles, DATABASE_URL, imgproxy on.
    env = _RecordingEnvironment(
        {"DATABASE_URL": "postgresql://h/db", "SOURCE_S3_ENDPOINT": "http://s3",
         "MEDIA_S3_ENDPOINT": "http://s3", "IMGPROXY_ENABLED": "true"}
    )  # fmt: skip
    with pytest.raises(ConfigError):
        load_config(env)  # secrets and S3 keys are missing: fine, every name was read

    assert env.asked == config_reference.variable_names()


def test_settings_are_unique_named_grouped_and_described() -> None:
    names = [setting.name for setting in SETTINGS]

    assert len(names) == len(set(names))
    assert all(_NAME.fullmatch(name) for name in names)
    assert {setting.group for setting in SETTINGS} <= set(GROUPS)
    assert all(setting.help.endswith(".") for setting in SETTINGS)
    assert all("\n" not in setting.env_help for setting in SETTINGS)


def test_secret_flags_cover_the_secrets() -> None:
    secrets = {setting.name for setting in SETTINGS if setting.secret}

    assert set(config.SECRET_MIN_BYTES) | set(config.IMGPROXY_SECRET_BYTES) <= secrets
    assert {"SOURCE_S3_SECRET_KEY", "MEDIA_S3_SECRET_KEY", "DATABASE_URL"} <= secrets


def test_declared_defaults_are_what_the_loader_returns() -> None:
    loaded = load_config({})
    simple = {
        "PORT": loaded.port,
        "WORKER_CONCURRENCY": loaded.worker_concurrency,
        "MAX_FILE_SIZE": loaded.max_file_size,
        "CACHE_MAX_SIZE": loaded.cache_max_size,
        "IMAGE_MAX_PIXELS": loaded.image_max_pixels,
        "MAX_BODY_BYTES": loaded.max_body_bytes,
        "TRUSTED_PROXY_COUNT": loaded.trusted_proxy_count,
        "MODE": loaded.mode,
        "LOG_FORMAT": loaded.log_format,
    }
    declared = {setting.name: setting.default for setting in SETTINGS}

    assert {name: declared[name] for name in simple} == {k: str(v) for k, v in simple.items()}


def test_the_core_and_http_defaults_are_the_configured_ones() -> None:
    loaded = load_config({})
    http = HttpSettings(api_key="k")

    assert (loaded.max_file_size, loaded.large_file_threshold) == (
        JobLimits().max_file_size,
        JobLimits().large_file_threshold,
    )
    assert loaded.image_max_source_bytes == ImageLimits().max_source_bytes
    assert loaded.image_source_bytes_in_flight == ImageLimits().source_bytes_in_flight
    assert loaded.image_budget_wait == ImageLimits().budget_wait_seconds
    # libvips' limit lives in the adapter, whose package loads libvips: compared here.
    assert loaded.image_max_pixels == VipsLimits().max_pixels
    assert (loaded.reconcile_grace, loaded.reconcile_interval) == (
        DEFAULT_RECONCILE_GRACE,
        DEFAULT_RECONCILE_INTERVAL,
    )
    configured = HttpSettings(
        api_key="k",
        body_read_timeout=loaded.body_read_timeout,
        max_body_bytes=loaded.max_body_bytes,
        callback_resolve_timeout=loaded.callback_resolve_timeout,
        jobs_rate_limit=loaded.jobs_rate_limit,
        key_rate_limit=loaded.key_rate_limit,
        key_ip_rate_limit=loaded.key_ip_rate_limit,
        trusted_proxy_count=loaded.trusted_proxy_count,
    )
    assert configured == http


def test_every_http_setting_comes_from_the_environment() -> None:
    loaded = load_config(
        {
            "MAX_BODY_BYTES": "1024",
            "JOBS_RATE_LIMIT": "5",
            "JOBS_RATE_WINDOW": "10s",
            "KEY_RATE_LIMIT": "6",
            "KEY_RATE_WINDOW": "2m",
            "KEY_IP_RATE_LIMIT": "7",
            "KEY_IP_RATE_WINDOW": "1h",
            "TRUSTED_PROXY_COUNT": "2",
            "CALLBACK_RESOLVE_TIMEOUT": "500ms",
        }
    )

    assert loaded.max_body_bytes == 1024
    assert loaded.jobs_rate_limit == RateLimit(limit=5, window_seconds=10)
    assert loaded.key_rate_limit == RateLimit(limit=6, window_seconds=120)
    assert loaded.key_ip_rate_limit == RateLimit(limit=7, window_seconds=3600)
    assert loaded.trusted_proxy_count == 2
    assert loaded.callback_resolve_timeout == 0.5
    # Every HttpSettings field but the API key (a secret, read with the others) is a
    # configuration value of the same name.
    http_fields = {field.name for field in attrs.fields(HttpSettings)}
    config_fields = {field.name for field in attrs.fields(config.Config)}
    assert http_fields - config_fields == {"api_key"}


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"JOBS_RATE_LIMIT": "0"}, "JOBS_RATE_LIMIT must be at least 1"),
        ({"KEY_RATE_WINDOW": "1500ms"}, "KEY_RATE_WINDOW must be whole seconds"),
        ({"KEY_IP_RATE_WINDOW": "0s"}, "KEY_IP_RATE_WINDOW must be at least 1s"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT must be at least 0"),
        ({"MAX_BODY_BYTES": "lots"}, "MAX_BODY_BYTES must be an integer, got 'lots'"),
        ({"CALLBACK_RESOLVE_TIMEOUT": "0"}, "CALLBACK_RESOLVE_TIMEOUT must be more than zero"),
    ],
)
def test_http_settings_are_checked(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(env)

    assert raised.value.problems == [problem]


def test_bounds_come_from_the_declaration() -> None:
    # A declaration's bounds are the loader's: changing one changes what is refused.
    size = settings.IMGPROXY_SIGNATURE_SIZE
    assert size.high is not None
    env = {"IMGPROXY_ENABLED": "true", "IMGPROXY_KEY": "ab" * 32, "IMGPROXY_SALT": "cd" * 32}

    with pytest.raises(ConfigError) as raised:
        load_config({**env, "IMGPROXY_SIGNATURE_SIZE": str(size.high + 1)})

    assert raised.value.problems == [f"IMGPROXY_SIGNATURE_SIZE must be at most {size.high}"]


def test_the_page_holds_the_current_rendering() -> None:
    page = PAGE.read_text(encoding="utf-8")

    assert generated_section(page) == render_markdown(), (
        "docs/configuration.md is stale: run "
        "`python -m vylux_cli.config_reference --update docs/configuration.md`"
    )


def test_env_example_holds_the_current_rendering() -> None:
    example = ENV_EXAMPLE.read_text(encoding="utf-8")

    assert generated_section(example, ENV_MARKERS) == render_env_example(), (
        ".env.example is stale: run `python -m vylux_cli.config_reference --update .env.example`"
    )


def test_the_check_command_notices_a_stale_file(tmp_path: Path) -> None:
    current = tmp_path / ".env.example"
    current.write_text(update_env_example(ENV_EXAMPLE.read_text(encoding="utf-8")))
    stale = tmp_path / "configuration.md"
    stale.write_text(f"x\n{MARKDOWN_MARKERS.begin}\nold\n{MARKDOWN_MARKERS.end}\n")

    assert config_reference.main(["--check", str(current)]) == 0
    assert config_reference.main(["--check", str(current), str(stale)]) == 1
    assert config_reference.main(["--update", str(stale)]) == 0
    assert config_reference.main(["--check", str(stale)]) == 0


def test_update_replaces_only_the_generated_section() -> None:
    document = f"intro\n{MARKDOWN_MARKERS.begin}\nold\n{MARKDOWN_MARKERS.end}\noutro\n"

    updated = update_document(document)

    assert updated.startswith("intro\n")
    assert updated.endswith("outro\n")
    assert generated_section(updated) == render_markdown()
    assert update_document(updated) == updated


def test_render_shows_type_bounds_and_profile_defaults() -> None:
    page = render_markdown()

    assert "| `PORT` | port 1–65535 | `3000` |" in page
    assert "| `WORKER_LEASE_TIMEOUT` | duration ≥ 3s | `30s` |" in page
    assert "| `MODE` | `all` \\| `server` \\| `worker` | `all` |" in page
    assert "| `DASHBOARD_ENABLED` | boolean | `true` (embedded), `false` (server) |" in page


def test_render_escapes_pipes_and_refuses_unknown_groups() -> None:
    piped = Setting(name="X", kind=Kind.TEXT, group=GROUPS[0], help="one | two.", env_help="x")

    assert "one \\| two." in render_markdown([piped])
    stray = attrs.evolve(piped, group=Group("nowhere", "nowhere"))
    with pytest.raises(ValueError, match="unknown groups"):
        render_markdown([stray])
