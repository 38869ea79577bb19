"""Every command that reads the configuration masks its secrets in the logs.

The embedded profile generates its secrets into ``secrets.env`` on first use, so only
the loaded configuration knows them; a command that loaded it without registering them
could log them in clear.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from vylux_cli.embedded_secrets import SECRETS_FILE
from vylux_cli.logging_setup import REDACTED, REDACTOR
from vylux_cli.main import cli

GENERATED = ("HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET", "KEY_TOKEN_SECRET", "ENCRYPTION_KEY")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env files from the repository
    for name in ("DATABASE_URL", "REDIS_URL", "VYLUX_API_URL", "VYLUX_API_KEY", *GENERATED):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARN")
    data = tmp_path / "data"
    monkeypatch.setenv("VYLUX_DATA_DIR", str(data))
    return data


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["migrate"], id="migrate"),
        pytest.param(["sign", "thumb", "some/key.webp"], id="sign"),
        pytest.param(["key-token", "abc123"], id="key-token"),
        pytest.param(["jobs", "show", "no-such-job"], id="jobs-show"),
        pytest.param(["jobs", "list"], id="jobs-list"),
        pytest.param(["media", "purge", "abc123", "--yes"], id="media-purge"),
        pytest.param(["queue", "stats"], id="queue-stats"),
        pytest.param(["keys", "rotate"], id="keys-rotate"),
    ],
)
def test_the_generated_secrets_are_masked_once_a_command_loaded_them(
    data_dir: Path, args: list[str]
) -> None:
    # The command may fail (no schema yet): loading the configuration comes first.
    CliRunner().invoke(cli, args)
    generated = {
        name: value
        for name, value in dotenv_values(data_dir / SECRETS_FILE).items()
        if value is not None
    }
    assert set(GENERATED) <= set(generated)
    unmasked = [name for name, value in generated.items() if REDACTOR.redact(value) != REDACTED]
    assert unmasked == []
