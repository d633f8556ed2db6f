"""Limits on reading a request's headers: size and time.

Uvicorn's httptools protocol reads headers of any size for as long as the client takes
(a 64 MB `Authorization` header is parsed and kept; a client that trickles one header byte a
second holds a connection forever), and has no option for either. `HeaderLimitedProtocol`
extends it: headers larger than `MAX_HEADER_BYTES` answer 431, headers not complete
`HTTP_HEADER_TIMEOUT_SECONDS` after a request (or the connection) began answer 408; both
in JSON with a code, then the connection closes.

It overrides the protocol's parser callbacks, which are not a public API, so the class
lives in the quarantine (fastpath/uvicorn_headers.py) and is used only with the Uvicorn
minor version it was written against (`fastpath.versions.UVICORN_HEADER_LIMITS`). With any
other version, or without httptools, the server runs Uvicorn's h11 protocol with its own
header size limit (`h11_max_incomplete_event_size`; no header timeout, 400 instead of 431).
"""

import importlib.util
import logging
from typing import Any

import orjson
import uvicorn

from engagement_api.fastpath.versions import UVICORN_HEADER_LIMITS

logger = logging.getLogger(__name__)

HEADER_TOO_LARGE = "HEADER_TOO_LARGE"
HEADER_TIMEOUT = "HEADER_TIMEOUT"


def refusal(status: int, reason: bytes, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response that refuses the request and closes the connection."""
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n" % (status, reason, len(body))
    )
    return head + body


def protocol_is_pinned() -> bool:
    return uvicorn.__version__.startswith(UVICORN_HEADER_LIMITS) and bool(
        importlib.util.find_spec("httptools")
    )


def websocket_protocol() -> str:
    """Uvicorn's `ws` option: with the pinned Uvicorn, its sans-I/O protocol with the send
    timeout (fastpath/uvicorn_websockets.py), else that protocol as it is."""
    if protocol_is_pinned():
        return "engagement_api.fastpath.uvicorn_websockets:SendLimitedWebSocketProtocol"
    return "websockets-sansio"


def http_options(max_header_bytes: int) -> dict[str, Any]:
    """Uvicorn's `http` option (and the h11 size limit when falling back). The protocol is
    named by import path: worker processes import it (it reads its limits from settings)."""
    if protocol_is_pinned():
        return {"http": "engagement_api.fastpath.uvicorn_headers:HeaderLimitedProtocol"}
    logger.warning(
        "header time limit off, running h11 with a size limit only: uvicorn %s installed,"
        " %sx verified (with httptools)",
        uvicorn.__version__,
        UVICORN_HEADER_LIMITS,
    )
    return {"http": "h11", "h11_max_incomplete_event_size": max_header_bytes}
