"""Live feed fan-out across server processes: PostgreSQL LISTEN/NOTIFY by default, Redis
pub/sub when `REDIS_URL` is set."""

from engagement_api.broadcast.base import Broadcaster, Maintenance
from engagement_api.broadcast.fanout import Fanout, FellBehind, Resolver, Subscriber
from engagement_api.broadcast.postgres import PostgresBroadcaster
from engagement_api.broadcast.redis import RedisBroadcaster
from engagement_api.db.outbox import OutboxReader
from engagement_api.settings import Settings


def create_broadcaster(settings: Settings, database_url: str) -> Broadcaster:
    """The process's broadcaster for its settings (Redis when `REDIS_URL` is set)."""
    reader = OutboxReader(database_url, connect_timeout=settings.db_connect_timeout_seconds)
    # Half the pool at most resolves events; the rest stays free for requests.
    fanout = Fanout(
        settings.subscription_queue_size,
        max(1, settings.db_pool_size // 2),
        reader,
        behind_seconds=settings.live_feed_behind_seconds,
    )
    maintenance = Maintenance(
        sweep_seconds=settings.live_feed_sweep_seconds,
        prune_seconds=settings.outbox_prune_interval_seconds,
        retention_seconds=settings.outbox_retention_seconds,
        retention_count=settings.outbox_retention_count,
        fault_kill_after_commit=settings.fault_kill_after_commit,
    )
    if settings.redis_url:
        return RedisBroadcaster(
            settings.redis_url,
            fanout,
            channel=settings.broadcast_channel,
            connect_timeout=settings.db_connect_timeout_seconds,
            maintenance=maintenance,
        )
    return PostgresBroadcaster(
        database_url,
        fanout,
        channel=settings.broadcast_channel,
        connect_timeout=settings.db_connect_timeout_seconds,
        maintenance=maintenance,
    )


__all__ = [
    "Broadcaster",
    "Fanout",
    "FellBehind",
    "Maintenance",
    "PostgresBroadcaster",
    "RedisBroadcaster",
    "Resolver",
    "Subscriber",
    "create_broadcaster",
]
