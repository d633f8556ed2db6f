"""WebSocket messages go out as text frames.

The view encodes JSON with orjson, to bytes; Strawberry's adapter sends bytes as *binary*
frames. graphql-transport-ws messages are JSON text: a browser hands a binary frame to
graphql-ws as a Blob and the Node client as a Buffer, and both reject it ("Message is
missing the 'type' property"). This adapter sends the same JSON as a text frame.
"""

from collections.abc import Mapping

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error
