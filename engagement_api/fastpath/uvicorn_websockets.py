"""Uvicorn's sans-I/O WebSocket protocol, dropping a client that reads nothing of a full
write buffer for `HTTP_SEND_TIMEOUT_SECONDS` (send_timeout.py). Its subscriptions end as
when the client leaves. Used with the Uvicorn minor version of `versions.UVICORN_HEADER_LIMITS`
(http/protocol.py), else Uvicorn's own protocol."""

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from engagement_api.fastpath.send_timeout import SendTimeout


class SendLimitedWebSocketProtocol(SendTimeout, WebSocketsSansIOProtocol):
    pass
