"""Prometheus metrics of every operation: latency, errors by code, live subscriptions."""

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from engagement_api.observability.metrics import Metrics
from engagement_api.schema.extensions.operation_facts import OperationFacts


class OperationMetrics(SchemaExtension):
    """Observe each operation's duration by name and type, count its errors by code, and
    keep `graphql_active_subscriptions` while a subscription streams. An operation run
    again after a conflict is observed once, for its last run (its duration: all runs)."""

    def __init__(self, metrics: Metrics) -> None:
        """Args:
        metrics: the application's metrics.
        """
        super().__init__()
        self.metrics = metrics
        self._streaming = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self._streaming:
                self.metrics.active_subscriptions.dec()
            self._observe(time.perf_counter() - started)

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors:
            return
        if context.operation_type is OperationType.SUBSCRIPTION:
            self._streaming = True
            self.metrics.active_subscriptions.inc()

    def _observe(self, seconds: float) -> None:
        facts = OperationFacts.of(self.execution_context, seconds)
        if facts is None:
            return
        self.metrics.operation_duration.labels(
            self.metrics.operation_label(facts.name), facts.type
        ).observe(facts.seconds)
        for code in facts.error_codes:
            self.metrics.errors.labels(code).inc()
