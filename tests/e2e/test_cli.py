"""The ``vylux-cli`` command and the app it serves."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from vylux_adapters.http import create_app
from vylux_cli.main import cli


async def test_healthz_answers_plain_ok() -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://vylux") as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.text, response.headers["content-type"]) == (
        200,
        "OK",
        "text/plain; charset=UTF-8",
    )


def test_version_and_help() -> None:
    runner = CliRunner()
    version = runner.invoke(cli, ["--version"])
    serve_help = runner.invoke(cli, ["serve", "--help"])
    assert (version.exit_code, serve_help.exit_code) == (0, 0)
    assert version.output.startswith("Vylux ")
    assert "--shutdown-timeout" in serve_help.output
