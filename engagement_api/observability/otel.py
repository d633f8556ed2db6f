"""OpenTelemetry tracing, switched on by `TRACING_ENABLED=true`.

`TRACING_EXPORTER=console` writes finished spans as JSON to standard output (development);
`otlp` sends them over OTLP/HTTP to `TRACING_OTLP_ENDPOINT` (or the standard
`OTEL_EXPORTER_OTLP_*` variables) and needs the `otlp` extra
(`pip install 'engagement-api[otlp]'`). Spans: one per operation with its parse and
validation steps and resolvers (Strawberry's OpenTelemetryExtension) and one per DataLoader
batch (`tracing.trace_batch`).
"""

import importlib
from collections.abc import Callable

from strawberry.extensions import SchemaExtension

from engagement_api.observability.tracing import enable_tracing
from engagement_api.settings import Settings

SERVICE_NAME_KEY = "service.name"
OTLP_EXPORTER_MODULE = "opentelemetry.exporter.otlp.proto.http.trace_exporter"


def setup_tracing(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Install the tracer provider; the schema extensions that trace operations."""
    if not settings.tracing_enabled:
        return []
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from strawberry.extensions.tracing import OpenTelemetryExtension

    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME_KEY: settings.tracing_service_name})
    )
    if settings.tracing_exporter == "otlp":
        otlp = importlib.import_module(OTLP_EXPORTER_MODULE)  # the optional `otlp` extra
        exporter = otlp.OTLPSpanExporter(endpoint=settings.tracing_otlp_endpoint)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    enable_tracing(provider.get_tracer("engagement_api"))
    return [lambda: OpenTelemetryExtension(tracer_provider=provider)]
