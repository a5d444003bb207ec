"""Metrics: the Prometheus text, the endpoint on loopback, what the parts count."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import open_core
from bot.chat.request import Caller
from bot.config import ConfigError, load_config
from bot.metrics import MeteredSender, Metrics, MetricsServer
from bot.model import Digest
from bot.monitor import count_outcomes
from bot.ports import ChannelGone, SentCallback
from tests.fakes.feed_server import FeedServer

MEMBER = Caller(channel_id="discord:1", user_id="discord:7", is_moderator=False)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in an exposition, parsed as Prometheus does; None when absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


async def scrape(server: MetricsServer) -> tuple[str, str]:
    """GET /metrics over loopback: the Content-Type and the body."""
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{server.port}/metrics") as resp:
        return resp.headers["Content-Type"], await resp.text()


class GoneSender:
    """A sender whose channel has been deleted."""

    def handles(self, channel_id: str) -> bool:
        """Every channel."""
        return True

    async def owns(self, channel_id: str) -> bool:
        """Every channel (one process)."""
        return True

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        """Always refuse."""
        raise ChannelGone("deleted")


def test_exposition_is_prometheus_text() -> None:
    """Counters and the histogram come out in the text format, labels escaped."""
    metrics = Metrics()
    metrics.fetches.labels("ok").inc()
    metrics.fetches.labels("ok").inc()
    metrics.deliveries.labels("discord", 'se"nt').inc()
    metrics.command_seconds.labels("search").observe(0.02)
    text = metrics.exposition()
    assert "# HELP newsbot_fetches_total Feed polls by outcome.\n" in text
    assert "# TYPE newsbot_fetches_total counter\n" in text
    assert "# TYPE newsbot_command_seconds histogram\n" in text
    assert 'outcome="se\\"nt"' in text and "_created" not in text
    assert sample(text, "newsbot_fetches_total", outcome="ok") == 2
    assert sample(text, "newsbot_deliveries_total", platform="discord", outcome='se"nt') == 1
    bucket = "newsbot_command_seconds_bucket"
    assert sample(text, bucket, command="search", le="0.01") == 0
    assert sample(text, bucket, command="search", le="0.025") == 1
    assert sample(text, bucket, command="search", le="+Inf") == 1
    assert sample(text, "newsbot_command_seconds_count", command="search") == 1


async def test_endpoint_serves_metrics_on_loopback() -> None:
    """GET /metrics answers the exposition as text/plain."""
    metrics = Metrics()
    metrics.articles_stored.inc(5)
    async with MetricsServer(metrics, "127.0.0.1:0") as server:
        kind, body = await scrape(server)
    assert kind.startswith("text/plain") and sample(body, "newsbot_articles_stored_total") == 5


async def test_large_counts_are_served_exactly() -> None:
    """A counter past a million scrapes as its exact value, not rounded to six digits."""
    metrics = Metrics()
    metrics.articles_stored.inc(1_234_566)
    metrics.articles_stored.inc()
    metrics.deliveries.labels("discord", "sent").inc(1_234_567)
    async with MetricsServer(metrics, "127.0.0.1:0") as server:
        _, body = await scrape(server)
    assert sample(body, "newsbot_articles_stored_total") == 1_234_567
    assert sample(body, "newsbot_deliveries_total", platform="discord", outcome="sent") == 1_234_567


async def test_deliveries_are_counted_by_platform_and_outcome() -> None:
    """A refused delivery counts as gone on its platform, and still raises."""
    metrics = Metrics()
    sender = MeteredSender(GoneSender(), metrics)

    async def sent(indices: Sequence[int], message_id: str) -> None:
        return None

    with pytest.raises(ChannelGone):
        await sender.send_digest("telegram:-1", Digest("telegram:-1", "t", datetime.now(UTC)),
                                 sent)
    text = metrics.exposition()
    assert sample(text, "newsbot_deliveries_total", platform="telegram", outcome="gone") == 1


@pytest.mark.slow
async def test_polls_and_commands_are_counted(write_config: Callable[[str], Path],
                                              feed_server: FeedServer) -> None:
    """A poll round counts fetches and stories; a command records its latency."""
    path = write_config(f'[fetch]\nallow_private_addresses = true\n[[feeds]]\n'
                        f'url = "{feed_server.url("world_news.xml")}"\n'
                        f'[[feeds]]\nurl = "{feed_server.url("malformed.xml")}"\n'
                        '[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        count_outcomes(core.metrics, await core.poller.poll_due())
        await core.commands.handle(MEMBER, "/latest")
    text = core.metrics.exposition()
    assert sample(text, "newsbot_fetches_total", outcome="ok") == 1
    assert sample(text, "newsbot_fetches_total", outcome="error") == 1
    assert (sample(text, "newsbot_articles_stored_total") or 0) > 0
    assert sample(text, "newsbot_command_seconds_count", command="latest") == 1


def test_listen_address_is_validated(write_config: Callable[[str], Path]) -> None:
    """A listen value without a port is a config error naming the key."""
    path = write_config('[metrics]\nlisten = "localhost"\n')
    with pytest.raises(ConfigError, match=r"metrics\.listen: .* is not host:port"):
        load_config(path, environ={})
