"""Live feed fan-out across server processes: PostgreSQL LISTEN/NOTIFY by default, Redis
pub/sub when `REDIS_URL` is set."""

from engagement_api.broadcast.base import Broadcaster
from engagement_api.broadcast.fanout import Delivery, EventsMissed, Fanout, FellBehind, Subscriber
from engagement_api.broadcast.postgres import PostgresBroadcaster
from engagement_api.broadcast.redis import RedisBroadcaster
from engagement_api.settings import Settings


def create_broadcaster(settings: Settings, database_url: str) -> Broadcaster:
    """The process's broadcaster for its settings (Redis when `REDIS_URL` is set)."""
    # Half the pool at most resolves events; the rest stays free for requests.
    fanout = Fanout(settings.subscription_queue_size, max(1, settings.db_pool_size // 2))
    if settings.redis_url:
        return RedisBroadcaster(
            settings.redis_url,
            fanout,
            channel=settings.broadcast_channel,
            connect_timeout=settings.db_connect_timeout_seconds,
        )
    return PostgresBroadcaster(
        database_url,
        fanout,
        channel=settings.broadcast_channel,
        connect_timeout=settings.db_connect_timeout_seconds,
    )


__all__ = [
    "Broadcaster",
    "Delivery",
    "EventsMissed",
    "Fanout",
    "FellBehind",
    "PostgresBroadcaster",
    "RedisBroadcaster",
    "Subscriber",
    "create_broadcaster",
]
