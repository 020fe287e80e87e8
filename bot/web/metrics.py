"""`GET /metrics` on the shared web server, in Prometheus's text format.

Wiring (`tbbot run`): ``server.add_routes(metrics_routes(engine.metrics, store, clock))``;
the figures and their labels are described in `scheduler.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from scheduler.metrics import Metrics, StoreCollector
from storage.store import Store

METRICS_PATH = "/metrics"


def metrics_routes(
    metrics: Metrics, store: Store, now: Callable[[], datetime]
) -> list[web.RouteDef]:
    """The scrape route; registers the database gauges in ``metrics``' registry."""
    collector = StoreCollector(now)
    metrics.registry.register(collector)

    async def scrape(request: web.Request) -> web.Response:
        await collector.refresh(store.metrics.snapshot)
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return [web.get(METRICS_PATH, scrape)]
