# syntax=docker/dockerfile:1
#
# ADU image. Two ways to get the wheels, one way to install them:
#
#   docker build -t adu:0.1.0 .                              # stage 1 builds the wheelhouse (needs PyPI)
#   docker build --build-arg WHEELS=local -t adu:0.1.0 .     # uses dist/wheelhouse (no network: the
#                                                            # offline bundle, given the base image)
#
# Either way the final stage runs the same command as a host install:
#   pip install --no-index --find-links /wheelhouse adu
#
# Run: see docker-compose.yml and the README ("Install offline", "Environment variables").

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG WHEELS=build

# --- stage 1: the wheelhouse, built by the same script as on a host -----------------------
FROM ${PYTHON_IMAGE} AS wheels-build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# a C compiler for the optional binary COPY decoder of adu-postgres
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# README.m[d]: copied when present (the meta-distribution's description)
COPY pyproject.toml README.m[d] ./
COPY packages/ packages/
COPY plugins/ plugins/
COPY scripts/build-wheelhouse scripts/
RUN python scripts/build-wheelhouse --out /wheelhouse \
 && sed 's#  #  /wheelhouse/#' /wheelhouse/SHA256SUMS | sha256sum --check --quiet

# --- or: the wheelhouse of the build context (scripts/build-wheelhouse run beforehand) ----
FROM scratch AS wheels-local
COPY dist/wheelhouse/ /wheelhouse/

# a stage of this file, chosen by --build-arg WHEELS=build|local (not an image to pin)
# hadolint ignore=DL3006
FROM wheels-${WHEELS} AS wheels

# --- final stage -------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
LABEL org.opencontainers.image.title="ADU" \
      org.opencontainers.image.description="The Air-gapped Data Utility: PostgreSQL and Vertica to verified Parquet, offline." \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INDEX=1 \
    VIRTUAL_ENV=/opt/adu \
    PATH=/opt/adu/bin:$PATH

# the wheelhouse is mounted for the install only: it does not stay in the image
RUN --mount=type=bind,from=wheels,source=/wheelhouse,target=/wheelhouse \
    sed 's#  #  /wheelhouse/#' /wheelhouse/SHA256SUMS | sha256sum --check --quiet \
 && python -m venv /opt/adu \
 && /opt/adu/bin/pip install --no-cache-dir --no-index --find-links /wheelhouse adu \
 && /opt/adu/bin/pip check \
 && groupadd --system --gid 10001 adu \
 && useradd --system --uid 10001 --gid adu --home-dir /home/adu --create-home --shell /usr/sbin/nologin adu \
 && mkdir -p /data /exports \
 && chown adu:adu /data /exports

# every setting comes from the environment (README: "Environment variables");
# secrets never: ADU_SECRET_KEY_FILE is the path of a Docker secret, not a secret; or pass
# ADU_SECRET_KEY at run time
# hadolint ignore=DL3064
ENV ADU_ENV=production \
    ADU_DATA_DIR=/data \
    ADU_EXPORT_ROOT=/exports \
    ADU_LOG_STDOUT=1 \
    ADU_HOST=0.0.0.0 \
    ADU_PORT=8080 \
    ADU_SECRET_KEY_FILE=/run/secrets/adu_secret_key \
    HOME=/home/adu

USER 10001:10001
WORKDIR /home/adu
VOLUME ["/data", "/exports"]
EXPOSE 8080

# liveness of the web app; no curl in the image, Python is there
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ADU_PORT', '8080'), timeout=4)"]

# `adu serve`: gunicorn (gthread) with ADU_WORKERS embedded job workers; graceful stop on SIGTERM.
# Other commands: docker run ... adu:0.1.0 worker | export ... | verify ... | users add ...
ENTRYPOINT ["adu"]
CMD ["serve"]
