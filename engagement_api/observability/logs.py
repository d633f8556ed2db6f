"""Logs: one JSON object per line (or plain text), each with the request id."""

import logging
import sys

import orjson

from engagement_api.http.request_id import current_request_id
from engagement_api.settings import Settings


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time, level, logger, message, request id, extras."""

    STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {
        "message",
        "asctime",
        "color_message",  # Uvicorn's message again, with terminal colour codes
    }

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id.get(),
        }
        payload.update(
            {key: value for key, value in vars(record).items() if key not in self.STANDARD}
        )
        if record.exc_info:
            payload["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(payload, default=str).decode()


class ClientFaultsAsWarnings(logging.Filter):
    """Uvicorn logs a WebSocket text frame that is not UTF-8 as an error, with a traceback:
    any client could fill the error log with them. It is the client's fault, answered by
    closing its connection with 1007, so the line becomes a warning without the trace."""

    MESSAGES = frozenset({"Invalid UTF-8 sequence received from client."})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.MESSAGES:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


CLIENT_FAULTS = ClientFaultsAsWarnings()


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
    logging.captureWarnings(True)  # a library's warning is a log line like any other
    # Strawberry logs every GraphQL error, expected ones included; unexpected errors are
    # logged once, with the request id, by schema/extensions/mask_errors.py.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.error").addFilter(CLIENT_FAULTS)  # once, however often called
