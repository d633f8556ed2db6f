# syntax=docker/dockerfile:1
# The production image: the packages of requirements.txt (hash-checked), the
# project (built with requirements-build.txt), its migrations; ENVIRONMENT=production; a non-root user.
#
# Build:             docker build -t engagement-api .
# Migrate (release): docker run --rm -e DATABASE_URL=postgresql://owner@db/engagement engagement-api migrate
# Serve:             docker run -p 8000:8000 -e DATABASE_URL=postgresql://owner@db/engagement \
#                      -e JWT_SECRET="$(openssl rand -hex 32)" \
#                      --tmpfs /tmp/metrics -e PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \
#                      engagement-api serve --workers 2
# docker-compose.yml runs the whole stack; docs/deployment.md explains each setting.
#
# The base image is pinned to an exact Python release; to pin its content too, append the
# digest that `docker buildx imagetools inspect python:3.11.14-slim-bookworm` prints
# (PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The locked dependencies first: this layer is rebuilt only when the lock file changes.
COPY requirements.txt requirements-build.txt ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.txt \
    && python -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir --require-hashes -r requirements-build.txt
COPY pyproject.toml README.md ./
COPY engagement_api ./engagement_api
# The project's wheel with the locked build backend (no unpinned download at build time).
RUN /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /tmp/wheels . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && /opt/venv/bin/pip check

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=2)"]
ENTRYPOINT ["engagement-api"]
CMD ["serve"]
