"""Who and how much each organization of a seed gets, and the stable ids of its rows."""

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from engagement_api.db.enums import (
    Role,
)

SEED_NAMESPACE = uuid.UUID("5eed5eed-0000-5000-8000-00000000e9a6")
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)

DEMO_ORG_KEY = "acme"
DEMO_ORG_NAME = "Acme Studio"
DEMO_ADMIN_EMAIL = "admin@acme.test"
DEMO_STAFF_EMAIL = "staff@acme.test"
DEMO_CLIENT_EMAIL = "client1@acme.test"
SHARED_STAFF_EMAIL = "pat@freelance.test"
"""A consultant working for Acme Studio and Globex: the same email in two organizations."""


def stable_id(*parts: object) -> uuid.UUID:
    """The uuid5 of a stable name: the same row gets the same id in every run."""
    return uuid.uuid5(SEED_NAMESPACE, "/".join(str(part) for part in parts))


def organization_id(key: str) -> uuid.UUID:
    return stable_id("organization", key)


def user_id(org_key: str, email: str) -> uuid.UUID:
    return stable_id("user", org_key, email)


DEMO_ORG_ID = organization_id(DEMO_ORG_KEY)


@dataclass(frozen=True)
class OrgPlan:
    """How much of what one organization gets."""

    key: str
    name: str
    domain: str
    ordinal: int
    admin_name: str
    staff: tuple[tuple[str, str], ...]
    currency: str
    clients: int
    engagements_per_client: int
    projects_per_engagement: int
    conversations_per_engagement: int
    message_counts: tuple[int, ...]
    orders_per_engagement: int
    proposals_per_client: int
    engagement_spacing: timedelta
    long_thread_messages: int = 0
    internal_only_every: int = 0

    @property
    def engagements(self) -> int:
        return self.clients * self.engagements_per_client

    def client_email(self, index: int) -> str:
        if self.clients == 1:
            return f"client@{self.domain}"
        return f"client{index + 1}@{self.domain}"


def _small_org(key: str, name: str, ordinal: int, admin_name: str, currency: str) -> OrgPlan:
    domain = f"{key}.test"
    return OrgPlan(
        key=key,
        name=name,
        domain=domain,
        ordinal=ordinal,
        admin_name=admin_name,
        staff=((f"staff@{domain}", f"{name} Staff"), (SHARED_STAFF_EMAIL, "Pat Morgan")),
        currency=currency,
        clients=1,
        engagements_per_client=2,
        projects_per_engagement=2,
        conversations_per_engagement=1,
        message_counts=(6,),
        orders_per_engagement=1,
        proposals_per_client=2,
        engagement_spacing=timedelta(days=2),
    )


DEMO_PLAN = OrgPlan(
    key=DEMO_ORG_KEY,
    name=DEMO_ORG_NAME,
    domain="acme.test",
    ordinal=0,
    admin_name="Avery Stone",
    staff=((DEMO_STAFF_EMAIL, "Sam Rivera"), (SHARED_STAFF_EMAIL, "Pat Morgan")),
    currency="USD",
    clients=5,
    engagements_per_client=2,
    projects_per_engagement=3,
    conversations_per_engagement=2,
    message_counts=(8, 5, 0, 12, 3, 9, 6),
    orders_per_engagement=1,
    proposals_per_client=2,
    engagement_spacing=timedelta(days=1),
    internal_only_every=7,
)
"""Acme Studio at scale 1: small, with a never-messaged and an internal-only conversation."""


def benchmark_plan(scale: int) -> OrgPlan:
    """Acme Studio at scale N > 1: the benchmark workload."""
    return replace(
        DEMO_PLAN,
        clients=20 * scale,
        engagements_per_client=10,
        projects_per_engagement=5,
        conversations_per_engagement=3,
        message_counts=(40,),
        orders_per_engagement=2,
        engagement_spacing=timedelta(hours=1),
        long_thread_messages=10_000 * scale,
        internal_only_every=0,
    )


def plans_for_scale(scale: int) -> tuple[OrgPlan, ...]:
    """The organizations a seed of `scale` creates (see the module docstring)."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    globex = _small_org("globex", "Globex", 1, "Hank Scorpio", "EUR")
    if scale == 1:
        return (DEMO_PLAN, globex)
    initech = _small_org("initech", "Initech", 2, "Bill Lumbergh", "USD")
    return (benchmark_plan(scale), globex, initech)


@dataclass(frozen=True)
class SeedUser:
    id: uuid.UUID
    email: str
    name: str
    role: Role
    organization: str
