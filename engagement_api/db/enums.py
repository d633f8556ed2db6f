"""The design's integer codes as Python enums (stored as integers, exposed by name)."""

from enum import IntEnum


class Role(IntEnum):
    CLIENT = 1
    STAFF = 2
    ADMIN = 3


class EngagementStatus(IntEnum):
    ACTIVE = 1
    PAUSED = 2
    CLOSED = 3


class ProjectStatus(IntEnum):
    ACTIVE = 1
    PAUSED = 2
    COMPLETED = 3
    CANCELLED = 4


class ProjectPhase(IntEnum):
    KICKOFF = 1
    SETUP = 2
    BUILD = 3
    TESTING = 4
    DEPLOYMENT = 5
    HANDOFF = 6


class ConversationStatus(IntEnum):
    OPEN = 1
    CLOSED = 2


class ProposalStatus(IntEnum):
    DRAFT = 1
    SENT = 2
    SIGNED = 3
    DECLINED = 4


class OrderStatus(IntEnum):
    PENDING = 1
    PAID = 2
    REFUNDED = 3
    CANCELLED = 4
