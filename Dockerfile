# newsbot: the same `newsbot run` as README, as a non-root user, data in the /data volume.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/newsbot

RUN pip install --no-cache-dir uv \
    && useradd --create-home --uid 10001 newsbot \
    && mkdir /data && chown newsbot /data

WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY bot ./bot
COPY config.example.toml ./
RUN uv sync --frozen --no-dev

USER newsbot
VOLUME ["/data"]
ENV PATH="/opt/newsbot/bin:$PATH"
# Healthy = the bot's heartbeat is fresh and neither the poller nor the delivery loop stalled.
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["newsbot", "status", "--check", "-c", "/data/config.toml"]
# Put your config.toml into the volume; its `database` path is relative to it.
# SIGTERM (docker stop) lets a delivery in flight finish, then closes the database.
STOPSIGNAL SIGTERM
CMD ["newsbot", "run", "-c", "/data/config.toml"]
