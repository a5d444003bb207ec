"""Prometheus metrics: counters the parts update, kept by prometheus-client in a registry of each
bot's own, and an optional endpoint serving their text exposition."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import TracebackType

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric

from bot.logs import log_context
from bot.model import Digest
from bot.ports import ChannelGone, Sender, SentCallback

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Every metric of the bot; one instance, made in app.py and handed to the parts.

    The metrics live in a private registry, never prometheus-client's global one, so that
    several bots in one process (as in the tests) count apart."""

    def __init__(self) -> None:
        self._registry = CollectorRegistry()
        self.fetches = Counter("newsbot_fetches_total", "Feed polls by outcome.", ["outcome"],
                               registry=self._registry)
        self.articles_stored = Counter("newsbot_articles_stored_total", "New stories stored.",
                                       registry=self._registry)
        self.deliveries = Counter("newsbot_deliveries_total",
                                  "Digest deliveries by platform and outcome.",
                                  ["platform", "outcome"], registry=self._registry)
        self.command_seconds = Histogram("newsbot_command_seconds",
                                         "Time to answer a chat command.", ["command"],
                                         buckets=LATENCY_BUCKETS, registry=self._registry)

    def exposition(self) -> str:
        """All metrics in the Prometheus text format."""
        return generate_latest(_WithoutCreated(self._registry)).decode("utf-8")


class _WithoutCreated:
    """A registry's metrics without the `_created` timestamps prometheus-client adds to counters
    and histograms, which the endpoint has never served."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        """Each metric as collected (a fresh copy per scrape), less its `_created` sample."""
        for metric in self._registry.collect():
            created = f"{metric.name}_created"
            metric.samples = [s for s in metric.samples if s.name != created]
            yield metric


def platform_of(channel_id: str) -> str:
    """`discord:1` -> "discord", `console` -> "console"."""
    return channel_id.split(":", 1)[0]


class MeteredSender:
    """A Sender that counts its deliveries and tags their log lines with the channel."""

    def __init__(self, inner: Sender, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def handles(self, channel_id: str) -> bool:
        """As the wrapped sender."""
        return self._inner.handles(channel_id)

    async def owns(self, channel_id: str) -> bool:
        """As the wrapped sender."""
        return await self._inner.owns(channel_id)

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        """Send through the wrapped sender; count sent, gone or failed."""
        outcome = "failed"
        with log_context(channel_id=channel_id):
            try:
                await self._inner.send_digest(channel_id, digest, sent)
                outcome = "sent"
            except ChannelGone:
                outcome = "gone"
                raise
            finally:
                self._metrics.deliveries.labels(platform_of(channel_id), outcome).inc()


class MetricsServer:
    """`GET /metrics` on the configured address, while the bot runs."""

    def __init__(self, metrics: Metrics, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        self._host, self._port = host.strip("[]"), int(port)
        self._metrics = metrics
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when the config said port 0)."""
        assert self._runner is not None and self._runner.addresses
        return int(self._runner.addresses[0][1])

    async def __aenter__(self) -> MetricsServer:
        app = web.Application()
        app.router.add_get("/metrics", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        log.info("metrics on http://%s:%d/metrics", self._host, self.port)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.Response:
        return web.Response(text=self._metrics.exposition(),
                            content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})
