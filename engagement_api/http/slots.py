"""ASGI middleware: at most N HTTP requests of a worker process run at once; the rest
wait their turn, in arrival order (docs/performance.md, "Concurrency per worker").

A worker is one thread: requests that run at the same time only interleave, and a
dashboard read is CPU-bound. Letting 16 of them interleave makes each one 16 times slower
and keeps 16 requests' objects alive at once, which the garbage collector walks over and
over (measured: +25% CPU per request at concurrency 32 on 2 workers). A waiting request
holds no database connection. A slot is freed when the response starts (the work is done
by then), so a slow reader of a large body holds none. Only `/graphql` over HTTP counts:
health checks answer at once, and WebSockets (subscriptions) live outside the slots.

One client holds all the slots but one (one, when there is one): its further requests
wait on their own, holding none, so that a few costly requests of one client (the same
`Authorization` header, or without one the same address) cannot take every slot from the
others. Its requests still run in arrival order.

Workers accept connections from one shared socket, and a burst of new keep-alive
connections can land mostly on one of them: that worker's requests then queue while another
worker idles (measured: half the throughput, all of it on one core). When more than
`shed_over` requests wait, one response in every `slots` carries `Connection: close`; the
client reconnects, and the connection goes to whichever worker accepts first, usually one
waiting for work.
"""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _Client:
    """One client's share of the slots, kept while it has requests in this process."""

    __slots__ = ("requests", "share")

    def __init__(self, share: int) -> None:
        self.share = asyncio.Semaphore(share)
        self.requests = 0


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
        self.per_client = max(1, slots - 1)
        self.shed_over = shed_over
        self.shed_every = slots
        self.waiting = 0
        self._since_shed = slots
        self._clients: dict[object, _Client] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        key = _client_key(scope)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _Client(self.per_client)
        client.requests += 1
        try:
            await self._run(client, scope, receive, send)
        finally:
            client.requests -= 1
            if not client.requests:
                del self._clients[key]

    async def _run(self, client: _Client, scope: Scope, receive: Receive, send: Send) -> None:
        self.waiting += 1  # for its client's share, then for a slot
        try:
            await client.share.acquire()
            try:
                await self.slots.acquire()
            except BaseException:
                client.share.release()
                raise
        finally:
            self.waiting -= 1
        held = True

        def release() -> None:
            nonlocal held
            held = False
            self.slots.release()
            client.share.release()

        async def send_releasing(message: Message) -> None:
            # The response starts once the work is done: a slow reader of the body must
            # not keep the slot from the next request.
            if held and message["type"] == "http.response.start":
                release()
                if self._sheds():
                    headers = [*message.get("headers", []), (b"connection", b"close")]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            if held:
                release()

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


def _client_key(scope: Scope) -> object:
    """Who sends the request: its token (however the header spells its scheme and spaces),
    or without one its address."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            return token.strip() if scheme.lower() == b"bearer" else value
    client = scope.get("client")
    return client[0] if client else None
