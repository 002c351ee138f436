# syntax=docker/dockerfile:1
# One image for every service; the command picks the process:
#   docker run rcm claims run            docker run rcm sandbox run --config /etc/rcm/payers.yaml
#   docker run rcm remits run            docker run rcm dlt list claims.dlt
# A service upgrades its database (Alembic, the migrations shipped in its package) when it starts.
# The final stage holds the interpreter and the synced virtual environment only: no uv, no compilers,
# no package caches. It runs as a non-root user and writes nothing outside /tmp, so it works with a
# read-only root filesystem.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------- builder: the workspace from uv.lock
FROM ${PYTHON_IMAGE} AS builder
ENV UV_PROJECT_ENVIRONMENT=/opt/rcm \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir 'uv>=0.8,<0.14'
WORKDIR /src
COPY . .
# --frozen: exactly uv.lock, never re-resolved; --no-dev: no test tools; the root project depends on
# every library, service and the sandbox (not on the pytest fixtures package); --no-editable: the
# workspace packages are installed into the environment, so the sources are not needed at run time.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable \
    && /opt/rcm/bin/rcm --help >/dev/null

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
ARG RCM_UID=10001
RUN groupadd --system --gid ${RCM_UID} rcm \
    && useradd --system --uid ${RCM_UID} --gid rcm --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin rcm
COPY --from=builder --chown=root:root /opt/rcm /opt/rcm
ENV PATH=/opt/rcm/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    RCM_HTTP_PORT=8080
WORKDIR /tmp
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('RCM_HTTP_PORT', '8080'), timeout=3)"]
ENTRYPOINT ["rcm"]
CMD ["--help"]
