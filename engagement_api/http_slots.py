"""ASGI middleware: at most N HTTP requests of a worker process run at once; the rest
wait their turn, in arrival order (docs/performance.md, "Concurrency per worker").

A worker is one thread: requests that run at the same time only interleave, and a
dashboard read is CPU-bound. Letting 16 of them interleave makes each one 16 times slower
and keeps 16 requests' objects alive at once, which the garbage collector walks over and
over (measured: +25% CPU per request at concurrency 32 on 2 workers). A waiting request
holds no database connection. A slot is freed when the response starts (the work is done
by then), so a slow reader of a large body holds none. Only `/graphql` over HTTP counts:
health checks answer at once, and WebSockets (subscriptions) live outside the slots.
"""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpSlotsMiddleware:
    def __init__(self, app: ASGIApp, slots: int) -> None:
        """Args:
        app: the ASGI application to wrap.
        slots: how many HTTP requests of this process may run at once.
        """
        self.app = app
        self.slots = asyncio.Semaphore(slots)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        await self.slots.acquire()
        held = True

        async def send_releasing(message: Message) -> None:
            # The response starts once the work is done: a slow reader of the body must
            # not keep the slot from the next request.
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                self.slots.release()
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            if held:
                self.slots.release()
