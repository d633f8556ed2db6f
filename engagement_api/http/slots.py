"""ASGI middleware: at most N HTTP requests of a worker process run at once; the rest
wait their turn, in arrival order (docs/performance.md, "Concurrency per worker").

A worker is one thread: requests that run at the same time only interleave, and a
dashboard read is CPU-bound. Letting 16 of them interleave makes each one 16 times slower
and keeps 16 requests' objects alive at once, which the garbage collector walks over and
over (measured: +25% CPU per request at concurrency 32 on 2 workers). A waiting request
holds no database connection. A slot is freed when the response starts (the work is done
by then), so a slow reader of a large body holds none. Only `/graphql` over HTTP counts:
health checks answer at once, and WebSockets (subscriptions) live outside the slots.

Workers accept connections from one shared socket, and a burst of new keep-alive
connections can land mostly on one of them: that worker's requests then queue while another
worker idles (measured: half the throughput, all of it on one core). When more than
`shed_over` requests wait, one response in every `slots` carries `Connection: close`; the
client reconnects, and the connection goes to whichever worker accepts first, usually one
waiting for work.
"""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpSlotsMiddleware:
    def __init__(self, app: ASGIApp, slots: int, shed_over: int = 0) -> None:
        """Args:
        app: the ASGI application to wrap.
        slots: how many HTTP requests of this process may run at once.
        shed_over: when more requests than this wait, a response closes its connection (the
            client reconnects, and a less busy worker accepts it); 0: never.
        """
        self.app = app
        self.slots = asyncio.Semaphore(slots)
        self.shed_over = shed_over
        self.shed_every = slots
        self.waiting = 0
        self._since_shed = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        self.waiting += 1
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1
        held = True

        async def send_releasing(message: Message) -> None:
            # The response starts once the work is done: a slow reader of the body must
            # not keep the slot from the next request.
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                self.slots.release()
                if self._sheds():
                    headers = [*message.get("headers", []), (b"connection", b"close")]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            if held:
                self.slots.release()

    def _sheds(self) -> bool:
        """Whether this response closes its connection: when too many requests wait, one
        response in every `slots` (a worker overloaded along with all the others would
        otherwise reconnect every client on every response, for nothing)."""
        self._since_shed += 1
        if (
            not self.shed_over
            or self.waiting <= self.shed_over
            or self._since_shed < self.shed_every
        ):
            return False
        self._since_shed = 0
        return True
