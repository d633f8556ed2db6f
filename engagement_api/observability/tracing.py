"""OpenTelemetry spans around loader batches and operations, when tracing is switched on."""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

_tracer: Any = None


def enable_tracing(tracer: Any) -> None:
    """Install an OpenTelemetry tracer (see `observability.setup_tracing`)."""
    global _tracer
    _tracer = tracer


@contextmanager
def trace_batch(loader: str, size: int) -> Iterator[None]:
    if _tracer is None:
        with nullcontext():
            yield
        return
    with _tracer.start_as_current_span(f"loader {loader}") as span:
        span.set_attribute("loader.batch_size", size)
        yield
