"""The Redis backend (`REDIS_URL`): the announcement of a commit's outbox rows is
PUBLISHed after the commit, one SUBSCRIBEd connection per process. A process that dies in
between delays the delivery until some process's next sweep of the outbox. Pub/sub
channels are global to a Redis server (not per database number), so the channel name is a
setting (`BROADCAST_CHANNEL`)."""

import os
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from engagement_api.broadcast.base import Broadcaster
from engagement_api.broadcast.codec import encode
from engagement_api.broadcast.fanout import Fanout
from engagement_api.events import Announcement

LISTENER_CLIENT_NAME = f"engagement-api-listener-{os.getpid()}"
"""How operators (and tests) find this process's subscribed connection in CLIENT LIST."""


class RedisBroadcaster(Broadcaster):
    backend = "redis"

    def __init__(self, url: str, fanout: Fanout, **options: Any) -> None:
        super().__init__(fanout, **options)
        self.url = url
        self._publisher = aioredis.from_url(url, socket_connect_timeout=self.connect_timeout)

    async def send(self, announcements: Sequence[Announcement]) -> None:
        async with self._publisher.pipeline(transaction=False) as pipe:
            for announcement in announcements:
                pipe.publish(self.channel, encode(announcement))
            await pipe.execute()

    async def close_publisher(self) -> None:
        await self._publisher.aclose()

    async def listen(self, on_listening: Callable[[], None]) -> None:
        # No silent reconnection inside redis-py: a lost connection must surface here, so
        # that the supervisor reconnects and announces the gap.
        client = aioredis.from_url(
            self.url,
            socket_connect_timeout=self.connect_timeout,
            retry=Retry(NoBackoff(), 0),
            client_name=LISTENER_CLIENT_NAME,
        )
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            on_listening()
            while True:
                message = await pubsub.get_message(timeout=self.health_check_seconds)
                if message is None:  # idle: prove the connection is still alive
                    await pubsub.ping()
                elif message["type"] == "message":
                    self.receive(message["data"])
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
            await client.aclose()
