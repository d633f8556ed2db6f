"""Prometheus metrics, served at `/metrics` (behind `METRICS_TOKEN` when it is set).

- `graphql_operation_duration_seconds{operation_name, operation_type}`: a histogram of
  operation latency (its `_count` is the number of operations). `operation_name` is a name
  of the allow-list (`METRICS_OPERATION_NAMES` and the registered persisted documents'
  names), `anonymous`, `unknown`, or `other` for every other name: clients choose names, so
  an open label would let them grow the metrics without bound.
- `graphql_errors_total{code}`: errors returned to clients, by `extensions.code`.
- `graphql_active_subscriptions`: subscriptions currently streaming.
- `db_pool_connections{state}` (`checked_out`, `idle`, `overflow`) and `db_pool_size`:
  the SQLAlchemy pool, read at scrape time.

Every worker process keeps its own values, so with `--workers N` a scrape sees one worker.
To aggregate, set `PROMETHEUS_MULTIPROC_DIR` to an empty directory before starting the
server: the counters and histograms of all workers are then summed from there (the pool
gauges stay those of the worker that answered the scrape).
"""

import hmac
import os
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from engagement_api.http.errors import refusal_response

OTHER = "other"
FIXED_NAMES = frozenset({"anonymous", "unknown"})

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The process's metrics, in a registry of their own (one per application)."""

    def __init__(
        self, engine: AsyncEngine | None = None, operation_names: Iterable[str] = ()
    ) -> None:
        """Args:
        engine: the engine whose connection pool is reported (none: no pool metrics).
        operation_names: the operation names reported as they are (others: `other`).
        """
        self.operation_names = frozenset(operation_names) | FIXED_NAMES
        self.registry = CollectorRegistry()
        self.operation_duration = Histogram(
            "graphql_operation_duration_seconds",
            "Duration of GraphQL operations.",
            ["operation_name", "operation_type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "graphql_errors", "GraphQL errors returned, by code.", ["code"], registry=self.registry
        )
        self.active_subscriptions = Gauge(
            "graphql_active_subscriptions",
            "Subscriptions currently streaming.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._pool = PoolCollector(engine) if engine is not None else None
        if self._pool is not None:
            self.registry.register(self._pool)

    def operation_label(self, name: str) -> str:
        return name if name in self.operation_names else OTHER

    def exposition(self) -> bytes:
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        if self._pool is not None:
            registry.register(self._pool)
        return generate_latest(registry)


class PoolCollector(Collector):
    """The engine's connection pool, read at each scrape."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Args:
        engine: the engine whose pool is read.
        """
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        pool = self.engine.sync_engine.pool
        connections = GaugeMetricFamily(
            "db_pool_connections", "Database pool connections by state.", labels=["state"]
        )
        for state, reader in (
            ("checked_out", "checkedout"),
            ("idle", "checkedin"),
            ("overflow", "overflow"),  # QueuePool counts from -size: below 0 is none in use
        ):
            read = getattr(pool, reader, None)
            connections.add_metric([state], max(0.0, float(read())) if read else 0.0)
        yield connections
        size = getattr(pool, "size", None)
        yield GaugeMetricFamily(
            "db_pool_size", "Configured pool size.", value=float(size()) if size else 0.0
        )


async def metrics_endpoint(request: Request) -> Response:
    """The exposition; with `METRICS_TOKEN` set, only for `Authorization: Bearer <token>`."""
    token: str | None = request.app.state.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return refusal_response(
                401,
                "UNAUTHENTICATED",
                "Metrics require 'Authorization: Bearer <METRICS_TOKEN>'.",
                {"www-authenticate": "Bearer"},
            )
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
