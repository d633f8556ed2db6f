"""The status lifecycles of domain rules §3, as data: which moves are allowed and which
timestamp a move stamps or clears. Resolvers apply them; nothing here touches the database."""

from dataclasses import dataclass
from enum import IntEnum

from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    ProjectStatus,
)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    moves: dict[IntEnum, frozenset[IntEnum]]
    stamped: dict[IntEnum, str]
    """Entering this status sets the named column to the time of the change ..."""
    cleared: dict[IntEnum, str]
    """... and leaving it clears that column."""

    def allows(self, current: IntEnum, target: IntEnum) -> bool:
        return target in self.moves.get(current, frozenset())

    def stamps(self, current: IntEnum, target: IntEnum) -> tuple[str | None, str | None]:
        """(column to set to now, column to clear) for the move `current` -> `target`."""
        return self.stamped.get(target), self.cleared.get(current)


def _lifecycle(
    moves: dict[IntEnum, set[IntEnum]], stamped: dict[IntEnum, str] | None = None
) -> Lifecycle:
    stamp = stamped or {}
    return Lifecycle({k: frozenset(v) for k, v in moves.items()}, stamp, dict(stamp))


_E = EngagementStatus
ENGAGEMENT = _lifecycle(
    {_E.ACTIVE: {_E.PAUSED, _E.CLOSED}, _E.PAUSED: {_E.ACTIVE, _E.CLOSED}, _E.CLOSED: {_E.ACTIVE}},
    {_E.CLOSED: "closed_at"},
)

_P = ProjectStatus
PROJECT = _lifecycle(
    {
        _P.ACTIVE: {_P.PAUSED, _P.COMPLETED, _P.CANCELLED},
        _P.PAUSED: {_P.ACTIVE, _P.COMPLETED, _P.CANCELLED},
        _P.COMPLETED: {_P.ACTIVE},
        _P.CANCELLED: {_P.ACTIVE},
    },
    {_P.COMPLETED: "completed_at"},
)
PHASE_CHANGEABLE = frozenset({_P.ACTIVE, _P.PAUSED})
"""A project's phase may be set (forward or back) only in these statuses."""

_C = ConversationStatus
CONVERSATION = _lifecycle({_C.OPEN: {_C.CLOSED}, _C.CLOSED: {_C.OPEN}})
