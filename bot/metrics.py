"""Prometheus metrics: counters the parts update, the text exposition, an optional endpoint."""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Sequence
from types import TracebackType

from aiohttp import web

from bot.logs import log_context
from bot.model import Digest
from bot.ports import ChannelGone, Sender, SentCallback

log = logging.getLogger(__name__)
Labels = tuple[str, ...]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Counter:
    """A monotonically growing number per label set."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.labels = name, help_text, tuple(labels)
        self.values: dict[Labels, float] = {}

    def inc(self, *values: str, amount: float = 1.0) -> None:
        """Add `amount` to the series with these label values (in the declared order)."""
        assert len(values) == len(self.labels), f"{self.name} takes labels {self.labels}"
        self.values[values] = self.values.get(values, 0.0) + amount

    def value(self, *values: str) -> float:
        """The current value of one series (0 when never incremented)."""
        return self.values.get(values, 0.0)

    def exposition(self) -> list[str]:
        """The counter in Prometheus text format."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for values, number in sorted(self.values.items()):
            lines.append(f"{self.name}{_labels(self.labels, values)} {number:g}")
        return lines


class Histogram:
    """Observed durations per label set, in cumulative buckets."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (),
                 buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.name, self.help, self.labels = name, help_text, tuple(labels)
        self.buckets = tuple(buckets)
        self.counts: dict[Labels, list[int]] = {}
        self.sums: dict[Labels, float] = {}

    def observe(self, seconds: float, *values: str) -> None:
        """Count one observation."""
        counts = self.counts.setdefault(values, [0] * (len(self.buckets) + 1))
        counts[bisect_left(self.buckets, seconds)] += 1
        self.sums[values] = self.sums.get(values, 0.0) + seconds

    def exposition(self) -> list[str]:
        """The histogram in Prometheus text format (cumulative buckets, sum, count)."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for values, counts in sorted(self.counts.items()):
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                labels = _labels((*self.labels, "le"), (*values, le))
                lines.append(f"{self.name}_bucket{labels} {running}")
            plain = _labels(self.labels, values)
            lines.append(f"{self.name}_sum{plain} {self.sums[values]:g}")
            lines.append(f"{self.name}_count{plain} {running}")
        return lines


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for v in values)
    return "{" + ",".join(f'{n}="{v}"' for n, v in zip(names, escaped, strict=True)) + "}"


class Metrics:
    """Every metric of the bot; one instance, made in app.py and handed to the parts."""

    def __init__(self) -> None:
        self.fetches = Counter("newsbot_fetches_total", "Feed polls by outcome.", ["outcome"])
        self.articles_stored = Counter("newsbot_articles_stored_total", "New stories stored.")
        self.deliveries = Counter("newsbot_deliveries_total",
                                  "Digest deliveries by platform and outcome.",
                                  ["platform", "outcome"])
        self.command_seconds = Histogram("newsbot_command_seconds",
                                         "Time to answer a chat command.", ["command"])

    def exposition(self) -> str:
        """All metrics in the Prometheus text format, version 0.0.4."""
        lines: list[str] = []
        for metric in (self.fetches, self.articles_stored, self.deliveries,
                       self.command_seconds):
            lines.extend(metric.exposition())
        return "\n".join(lines) + "\n"


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
                self._metrics.deliveries.inc(platform_of(channel_id), outcome)


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
