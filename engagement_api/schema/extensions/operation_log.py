"""One structured log line per operation (JSON with `LOG_JSON=true`)."""

import logging
import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from engagement_api.schema.extensions.operation_facts import OperationFacts

logger = logging.getLogger("engagement_api.operations")


class OperationLog(SchemaExtension):
    """Log `operation` with its name, type, duration, status, error codes, request id,
    viewer and organization ids (when the viewer was loaded) and SQL statement count.
    A subscription is logged once, when it ends; an operation run again after a conflict
    once, for its last run (`attempts`: how many runs it took, `duration_ms`: all of them)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._log(time.perf_counter() - started)

    def _log(self, seconds: float) -> None:
        facts = OperationFacts.of(self.execution_context, seconds)
        if facts is not None:
            log_operation(facts, self.execution_context.context)


def log_operation(facts: OperationFacts, context: Any) -> None:
    """The operation's line: also written by the view for a request refused before it had a
    document, so that every answer with an error code has one."""
    logger.info(
        "operation",
        extra={
            "operation_name": facts.name,
            "operation_type": facts.type,
            "duration_ms": round(facts.seconds * 1000, 3),
            "status": facts.status,
            "error_codes": facts.error_codes,
            "request_id": getattr(context, "request_id", None),
            **_viewer_ids(context),
            "sql_statements": _statement_count(context),
            "attempts": facts.attempts,
        },
    )


def _viewer_ids(context: Any) -> dict[str, str | None]:
    try:
        scope = context.scope
    except (AttributeError, RuntimeError):  # no viewer was loaded
        return {"viewer_id": None, "org_id": None}
    return {"viewer_id": str(scope.user_id), "org_id": str(scope.org_id)}


def _statement_count(context: Any) -> int | None:
    db = getattr(context, "db", None)
    return db.statements.count if db is not None else None
