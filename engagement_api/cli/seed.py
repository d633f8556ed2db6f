"""Deterministic demo and benchmark data (`engagement-api seed`, `serve --demo`).

Every id is a uuid5 of a stable name, every timestamp an offset from 2026-01-01T00:00:00Z,
and every random choice comes from a `random.Random` seeded by the organization's key:
two runs produce identical rows. Seeding runs in one transaction under an advisory lock
and does nothing when the demo organization already exists, so `serve --demo` may call
it at every start. Rows go in with COPY; the owner connection (superuser or BYPASSRLS)
writes every tenant at once.

scale 1 (demo): "Acme Studio" (admin@acme.test, staff@acme.test, pat@freelance.test,
client1..client5@acme.test, 3 services, 10 engagements, 30 projects, 20 conversations,
10 proposals, 10 orders) and "Globex" (admin@globex.test, staff@globex.test,
pat@freelance.test, client@globex.test and a little data). pat@freelance.test works
for both organizations: the token command needs `--org` for that email.

scale N > 1 (benchmark): Acme Studio with 20*N clients, 10 engagements per client
(200*N), 5 projects per engagement (every 10th soft-deleted), 3 conversations per
engagement of 40 messages each (about 30% internal, 10% with attachments, 5% soft-deleted),
2 orders per engagement, 2 proposals per client, plus one extra conversation of
10,000*N messages on client1's first engagement; and the small organizations Globex
and Initech. Scale 10: 2,000 engagements, 200 clients, 240,000 messages + a
100,000-message thread.
"""

import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db import migrate
from engagement_api.db.engine import EngineOptions, create_engine, resolve_database_url
from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)
from engagement_api.settings import get_settings

SEED_NAMESPACE = uuid.UUID("5eed5eed-0000-5000-8000-00000000e9a6")
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
ADVISORY_LOCK_KEY = 0x5EED_E9A6
DB_TIMEOUT_SECONDS = 1800.0

DEMO_ORG_KEY = "acme"
DEMO_ORG_NAME = "Acme Studio"
DEMO_ADMIN_EMAIL = "admin@acme.test"
DEMO_STAFF_EMAIL = "staff@acme.test"
DEMO_CLIENT_EMAIL = "client1@acme.test"
SHARED_STAFF_EMAIL = "pat@freelance.test"
"""A consultant working for Acme Studio and Globex: the same email in two organizations."""

INTERNAL_RATE = 0.30
ATTACHMENT_RATE = 0.10
DELETED_MESSAGE_RATE = 0.05
EDITED_MESSAGE_RATE = 0.05

Row = tuple[Any, ...]

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": ("id", "name", "created_at"),
    "users": ("id", "org_id", "email", "name", "role", "created_at"),
    "services": ("id", "org_id", "name", "description", "created_at"),
    "proposals": (
        "id",
        "org_id",
        "client_id",
        "service_id",
        "title",
        "amount_cents",
        "currency",
        "status",
        "signed_at",
        "created_at",
        "updated_at",
    ),
    "engagements": (
        "id",
        "org_id",
        "client_id",
        "name",
        "status",
        "proposal_id",
        "created_at",
        "updated_at",
        "closed_at",
    ),
    "orders": (
        "id",
        "org_id",
        "client_id",
        "proposal_id",
        "amount_cents",
        "currency",
        "status",
        "created_at",
        "updated_at",
        "engagement_id",
    ),
    "projects": (
        "id",
        "engagement_id",
        "org_id",
        "name",
        "description",
        "status",
        "phase",
        "service_id",
        "created_at",
        "updated_at",
        "completed_at",
        "deleted_at",
    ),
    "conversations": (
        "id",
        "engagement_id",
        "org_id",
        "subject",
        "status",
        "created_at",
        "updated_at",
        "last_message_at",
        "last_public_message_at",
    ),
    "conversation_messages": (
        "id",
        "conversation_id",
        "org_id",
        "sender_id",
        "content",
        "is_internal",
        "attachments",
        "created_at",
        "updated_at",
        "deleted_at",
    ),
}
"""The columns each table is copied with, tables in foreign-key order. A proposal's
`converted_order_id`/`converted_engagement_id` are set afterwards (the keys are circular)."""

SEEDED_TABLES: tuple[str, ...] = tuple(TABLE_COLUMNS)

PROPOSAL_CYCLE = (
    ProposalStatus.DRAFT,
    ProposalStatus.SENT,
    ProposalStatus.SIGNED,
    ProposalStatus.DECLINED,
)
ENGAGEMENT_CYCLE = (
    EngagementStatus.ACTIVE,
    EngagementStatus.ACTIVE,
    EngagementStatus.PAUSED,
    EngagementStatus.ACTIVE,
    EngagementStatus.CLOSED,
    EngagementStatus.ACTIVE,
    EngagementStatus.ACTIVE,
)
PROJECT_STATUS_CYCLE = (
    ProjectStatus.ACTIVE,
    ProjectStatus.ACTIVE,
    ProjectStatus.PAUSED,
    ProjectStatus.COMPLETED,
    ProjectStatus.ACTIVE,
    ProjectStatus.CANCELLED,
    ProjectStatus.COMPLETED,
)
"""Seven long, so that with six phases every (status, phase) pair occurs."""
ORDER_CYCLE = (
    OrderStatus.PAID,
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.REFUNDED,
    OrderStatus.CANCELLED,
)
PHASES = tuple(ProjectPhase)

FIRST_NAMES = (
    "Alex", "Blair", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jules",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Toby",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Bishop", "Carver", "Dalton", "Ellis", "Fischer", "Garcia", "Hughes", "Iverson",
    "Jensen", "Kim", "Lopez", "Moreau", "Novak", "Okafor", "Patel", "Ramos", "Silva", "Tanaka",
    "Usman",
)  # fmt: skip
SERVICES = (
    ("Website build", "Design and build of a marketing website."),
    ("Brand identity", "Logo, palette, typography and brand guidelines."),
    ("Growth retainer", None),
)
PROPOSAL_TITLES = (
    "Website redesign", "Brand refresh", "Mobile app MVP", "SEO audit", "Analytics dashboard",
    "E-commerce launch", "Content strategy", "Design system",
)  # fmt: skip
ENGAGEMENT_NAMES = (
    "Ongoing support", "2026 retainer", "Launch programme", "Quarterly roadmap", "Platform work",
)  # fmt: skip
PROJECT_NAMES = (
    "Landing page", "Checkout flow", "Onboarding emails", "Style guide", "Product photography",
    "CMS migration", "Accessibility review", "Performance pass", "Newsletter template",
    "Pricing page",
)  # fmt: skip
PROJECT_DESCRIPTIONS = (
    "Scope agreed in the kickoff call.",
    "Deliverables and acceptance criteria are in the shared folder.",
    "Follow-up to last quarter's review.",
)
SUBJECTS = (
    "Kickoff", "Feedback on the first draft", "Invoices", "Timeline", "Access and credentials",
    "Launch checklist", "Weekly update", "Questions about scope",
)  # fmt: skip
OPENERS = ("Hi!", "Quick update:", "Thanks,", "Heads up:", "Following up:", "FYI,", "Good news:")
BODIES = (
    "the new mockups are ready for review.",
    "can we move the call to Thursday?",
    "the staging site is deployed.",
    "I left comments on the document.",
    "we are waiting on the copy for the about page.",
    "the invoice for this month is attached.",
    "the client prefers the darker palette.",
    "tests pass on every browser we support.",
    "let's keep the scope as agreed.",
    "the launch date still holds.",
)
ATTACHMENT_NAMES = ("brief.pdf", "mockup.png", "invoice.pdf", "notes.docx", "export.csv")


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


@dataclass(frozen=True)
class SeedSummary:
    """What a seed run left in the database."""

    scale: int
    created: bool
    counts: dict[str, int]
    users: tuple[SeedUser, ...]
    seconds: float
    expected_engagements: int

    def user(self, email: str, organization: str = DEMO_ORG_NAME) -> SeedUser:
        for user in self.users:
            if user.email == email and user.organization == organization:
                return user
        raise KeyError(f"{email} in {organization}")

    @property
    def matches_scale(self) -> bool:
        """False when a benchmark scale finds data of another scale (the demo fits any)."""
        return self.scale == 1 or self.counts.get("engagements") == self.expected_engagements


@dataclass
class Dataset:
    """Every row of a seed, per table, in `TABLE_COLUMNS` order."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLE_COLUMNS})
    conversions: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = field(default_factory=list)
    """(proposal id, its order id, its engagement id) of every signed proposal."""
    users: list[SeedUser] = field(default_factory=list)


@dataclass(frozen=True)
class _Slot:
    index: int
    id: uuid.UUID
    client: uuid.UUID
    created_at: datetime


@dataclass(frozen=True)
class _Signed:
    id: uuid.UUID
    title: str
    amount_cents: int


@dataclass
class _Thread:
    """What a conversation's messages leave behind."""

    last_message_at: datetime | None = None
    last_public_message_at: datetime | None = None
    ended_at: datetime | None = None


class _OrgBuilder:
    """Builds one organization's rows into a dataset."""

    def __init__(self, plan: OrgPlan, data: Dataset) -> None:
        self.plan = plan
        self.data = data
        self.rng = random.Random(f"engagement-api-seed:{plan.key}")
        self.org_id = organization_id(plan.key)
        self.created_at = BASE_TIME + timedelta(minutes=plan.ordinal)
        self.team: list[uuid.UUID] = []
        self.clients: list[uuid.UUID] = []
        self.services: list[uuid.UUID] = []
        self.projects = 0
        self.conversations = 0
        self.orders = 0

    def add(self, table: str, row: Row) -> None:
        self.data.rows[table].append(row)

    def build(self) -> None:
        plan = self.plan
        if plan.proposals_per_client > plan.engagements_per_client:
            raise ValueError("every signed proposal needs an engagement of its client")
        if plan.orders_per_engagement < 1:
            raise ValueError("a signed proposal's engagement needs its order")
        self.add("organizations", (self.org_id, plan.name, self.created_at))
        self.people()
        self._services()
        slots = self._slots()
        signed = self._proposals(slots)
        for slot in sorted(slots.values(), key=lambda s: s.index):
            self._engagement(slot, signed.get(slot.id))

    def _person(self, email: str, name: str, role: Role, listed: bool) -> uuid.UUID:
        person_id = user_id(self.plan.key, email)
        minute = len(self.team) + len(self.clients) + 1
        created = self.created_at + timedelta(minutes=minute)
        self.add("users", (person_id, self.org_id, email, name, int(role), created))
        if listed:
            self.data.users.append(SeedUser(person_id, email, name, role, self.plan.name))
        return person_id

    def people(self) -> None:
        plan = self.plan
        self.team.append(self._person(f"admin@{plan.domain}", plan.admin_name, Role.ADMIN, True))
        for email, name in plan.staff:
            self.team.append(self._person(email, name, Role.STAFF, True))
        for index in range(plan.clients):
            name = (
                f"{FIRST_NAMES[index % len(FIRST_NAMES)]} "
                f"{LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]}"
            )
            email = plan.client_email(index)
            self.clients.append(self._person(email, name, Role.CLIENT, index < 5))

    def _services(self) -> None:
        for index, (name, description) in enumerate(SERVICES):
            service_id = stable_id("service", self.plan.key, index)
            created = self.created_at + timedelta(hours=1, minutes=index)
            self.add("services", (service_id, self.org_id, name, description, created))
            self.services.append(service_id)

    def _slots(self) -> dict[tuple[int, int], _Slot]:
        """Every engagement's id and time; interleaved so each client's spread over time."""
        plan = self.plan
        start = self.created_at + timedelta(days=7)
        slots: dict[tuple[int, int], _Slot] = {}
        for round_ in range(plan.engagements_per_client):
            for client in range(plan.clients):
                index = round_ * plan.clients + client
                created = start + index * plan.engagement_spacing
                engagement_id = stable_id("engagement", plan.key, index)
                slots[client, round_] = _Slot(index, engagement_id, self.clients[client], created)
        return slots

    def _proposals(self, slots: dict[tuple[int, int], _Slot]) -> dict[uuid.UUID, _Signed]:
        """Each client's proposals; a SIGNED one is converted into one of its engagements."""
        plan = self.plan
        signed: dict[uuid.UUID, _Signed] = {}
        for client in range(plan.clients):
            converted = 0
            for number in range(plan.proposals_per_client):
                index = client * plan.proposals_per_client + number
                if PROPOSAL_CYCLE[index % len(PROPOSAL_CYCLE)] is ProposalStatus.SIGNED:
                    slot = slots[client, converted]
                    signed[slot.id] = self._signed_proposal(index, slot)
                    converted += 1
                else:
                    self._open_proposal(index, self.clients[client])
        return signed

    def _proposal_row(
        self,
        index: int,
        client: uuid.UUID,
        status: ProposalStatus,
        created: datetime,
        updated: datetime,
        signed_at: datetime | None = None,
    ) -> tuple[uuid.UUID, str, int]:
        proposal_id = stable_id("proposal", self.plan.key, index)
        title = self.rng.choice(PROPOSAL_TITLES)
        amount = self.rng.randint(10, 400) * 50_000
        service = self.services[index % len(self.services)]
        self.add(
            "proposals",
            (
                proposal_id,
                self.org_id,
                client,
                service,
                title,
                amount,
                self.plan.currency,
                int(status),
                signed_at,
                created,
                updated,
            ),
        )
        return proposal_id, title, amount

    def _open_proposal(self, index: int, client: uuid.UUID) -> None:
        status = PROPOSAL_CYCLE[index % len(PROPOSAL_CYCLE)]
        created = self.created_at + timedelta(days=1) + index * self.plan.engagement_spacing / 2
        days = {ProposalStatus.DRAFT: 0, ProposalStatus.SENT: 1, ProposalStatus.DECLINED: 4}
        self._proposal_row(index, client, status, created, created + timedelta(days=days[status]))

    def _signed_proposal(self, index: int, slot: _Slot) -> _Signed:
        """Signed when its engagement and order were created (domain rules §3, signing)."""
        signed_at = slot.created_at
        created = signed_at - timedelta(days=6)
        proposal_id, title, amount = self._proposal_row(
            index, slot.client, ProposalStatus.SIGNED, created, signed_at, signed_at
        )
        self.data.conversions.append((proposal_id, self._order_id(slot, 0), slot.id))
        return _Signed(proposal_id, title, amount)

    def _order_id(self, slot: _Slot, number: int) -> uuid.UUID:
        return stable_id("order", self.plan.key, slot.index, number)

    def _engagement(self, slot: _Slot, signed: _Signed | None) -> None:
        status = ENGAGEMENT_CYCLE[slot.index % len(ENGAGEMENT_CYCLE)]
        ended = slot.created_at
        ended = max(ended, self._projects(slot))
        ended = max(ended, self._conversations(slot, status))
        ended = max(ended, self._orders(slot, signed))
        if signed is not None:
            name: str | None = signed.title
        else:
            name = None if slot.index % 6 == 5 else self.rng.choice(ENGAGEMENT_NAMES)
        closed_at = ended + timedelta(days=1) if status is EngagementStatus.CLOSED else None
        updated = {
            EngagementStatus.ACTIVE: slot.created_at,
            EngagementStatus.PAUSED: slot.created_at + timedelta(days=3),
            EngagementStatus.CLOSED: closed_at,
        }[status]
        self.add(
            "engagements",
            (
                slot.id,
                self.org_id,
                slot.client,
                name,
                int(status),
                signed.id if signed else None,
                slot.created_at,
                updated,
                closed_at,
            ),
        )

    def _projects(self, slot: _Slot) -> datetime:
        ended = slot.created_at
        for number in range(self.plan.projects_per_engagement):
            ended = max(ended, self._project(slot, number, self.projects))
            self.projects += 1
        return ended

    def _project(self, slot: _Slot, number: int, index: int) -> datetime:
        phase = PHASES[index % len(PHASES)]
        status = PROJECT_STATUS_CYCLE[index % len(PROJECT_STATUS_CYCLE)]
        created = slot.created_at + timedelta(hours=3 * (number + 1))
        updated = created + timedelta(days=2 * (int(phase) - 1))
        if status is not ProjectStatus.ACTIVE:
            updated += timedelta(days=3)
        completed_at = updated if status is ProjectStatus.COMPLETED else None
        deleted_at = updated + timedelta(days=1) if index % 10 == 9 else None
        updated = deleted_at or updated
        service = None if index % 4 == 3 else self.services[index % len(self.services)]
        description = self.rng.choice(PROJECT_DESCRIPTIONS) if self.rng.random() < 0.7 else None
        self.add(
            "projects",
            (
                stable_id("project", self.plan.key, slot.index, number),
                slot.id,
                self.org_id,
                self.rng.choice(PROJECT_NAMES),
                description,
                int(status),
                int(phase),
                service,
                created,
                updated,
                completed_at,
                deleted_at,
            ),
        )
        return updated

    def _conversations(self, slot: _Slot, engagement: EngagementStatus) -> datetime:
        plan = self.plan
        ended = slot.created_at
        for number in range(plan.conversations_per_engagement):
            index = self.conversations
            self.conversations += 1
            count = plan.message_counts[index % len(plan.message_counts)]
            every = plan.internal_only_every
            internal_only = every > 0 and index % every == every - 1
            closed = engagement is EngagementStatus.CLOSED or index % 4 == 3
            subject = self._subject(index, internal_only)
            created = slot.created_at + timedelta(hours=5 * number + 1)
            conversation_id = stable_id("conversation", plan.key, slot.index, number)
            thread = self._messages(conversation_id, slot.client, created, count, internal_only)
            row_ended = self._conversation_row(
                conversation_id, slot, subject, closed, created, thread
            )
            ended = max(ended, row_ended)
        if plan.long_thread_messages and slot.index == 0:
            ended = max(ended, self._long_thread(slot))
        return ended

    def _subject(self, index: int, internal_only: bool) -> str | None:
        if internal_only:
            return "Internal notes"
        return None if index % 9 == 8 else self.rng.choice(SUBJECTS)

    def _long_thread(self, slot: _Slot) -> datetime:
        conversation_id = stable_id("conversation", self.plan.key, slot.index, "thread")
        created = slot.created_at + timedelta(minutes=30)
        thread = self._messages(
            conversation_id,
            slot.client,
            created,
            self.plan.long_thread_messages,
            False,
            gap_seconds=(20, 100),
        )
        return self._conversation_row(
            conversation_id, slot, "Long-running thread", False, created, thread
        )

    def _conversation_row(
        self,
        conversation_id: uuid.UUID,
        slot: _Slot,
        subject: str | None,
        closed: bool,
        created: datetime,
        thread: _Thread,
    ) -> datetime:
        ended = thread.ended_at or created
        updated = ended + timedelta(days=1) if closed else created
        status = ConversationStatus.CLOSED if closed else ConversationStatus.OPEN
        self.add(
            "conversations",
            (
                conversation_id,
                slot.id,
                self.org_id,
                subject,
                int(status),
                created,
                updated,
                thread.last_message_at,
                thread.last_public_message_at,
            ),
        )
        return max(ended, updated)

    def _messages(
        self,
        conversation_id: uuid.UUID,
        client: uuid.UUID,
        start: datetime,
        count: int,
        internal_only: bool,
        gap_seconds: tuple[int, int] = (60, 4 * 3600),
    ) -> _Thread:
        """`count` messages in time order; the thread's activity times, as the columns hold them."""
        rng, team, rows = self.rng, self.team, self.data.rows["conversation_messages"]
        thread = _Thread()
        at = start
        prefix = f"{conversation_id}/"
        for number in range(count):
            at += timedelta(seconds=rng.randint(*gap_seconds))
            internal = internal_only or rng.random() < INTERNAL_RATE
            sender = rng.choice(team) if internal or rng.random() < 0.5 else client
            content = f"{rng.choice(OPENERS)} {rng.choice(BODIES)}"
            message_id = uuid.uuid5(SEED_NAMESPACE, prefix + str(number))
            attachments = self._attachments(message_id) if rng.random() < ATTACHMENT_RATE else "[]"
            updated = at + timedelta(minutes=7) if rng.random() < EDITED_MESSAGE_RATE else at
            deleted_at = (
                updated + timedelta(hours=1) if rng.random() < DELETED_MESSAGE_RATE else None
            )
            if deleted_at is None:
                thread.last_message_at = at
                if not internal:
                    thread.last_public_message_at = at
            else:
                updated = deleted_at
            thread.ended_at = max(thread.ended_at or updated, updated)
            rows.append(
                (
                    message_id,
                    conversation_id,
                    self.org_id,
                    sender,
                    content,
                    internal,
                    attachments,
                    at,
                    updated,
                    deleted_at,
                )
            )
        return thread

    def _attachments(self, message_id: uuid.UUID) -> str:
        """A JSON array of 1 or 2 `{name, url, size}` objects."""
        files = []
        for _ in range(self.rng.randint(1, 2)):
            name = self.rng.choice(ATTACHMENT_NAMES)
            url = f"https://files.{self.plan.domain}/{message_id}/{name}"
            files.append({"name": name, "url": url, "size": self.rng.randint(1_000, 5_000_000)})
        return json.dumps(files)

    def _orders(self, slot: _Slot, signed: _Signed | None) -> datetime:
        ended = slot.created_at
        for number in range(self.plan.orders_per_engagement):
            index = self.orders
            self.orders += 1
            if number == 0 and signed is not None:
                updated = self._order(
                    slot, number, OrderStatus.PAID, signed.amount_cents, signed.id
                )
            else:
                status = ORDER_CYCLE[index % len(ORDER_CYCLE)]
                amount = self.rng.randint(5, 200) * 10_000
                updated = self._order(slot, number, status, amount, None)
            ended = max(ended, updated)
        return ended

    def _order(
        self,
        slot: _Slot,
        number: int,
        status: OrderStatus,
        amount: int,
        proposal: uuid.UUID | None,
    ) -> datetime:
        created = slot.created_at + timedelta(days=14 * number)
        updated = created if status is OrderStatus.PENDING else created + timedelta(days=2)
        self.add(
            "orders",
            (
                self._order_id(slot, number),
                self.org_id,
                slot.client,
                proposal,
                amount,
                self.plan.currency,
                int(status),
                created,
                updated,
                slot.id,
            ),
        )
        return updated


def build_dataset(plans: Sequence[OrgPlan]) -> Dataset:
    """Every row of the organizations of `plans` (pure: no database)."""
    data = Dataset()
    for plan in plans:
        _OrgBuilder(plan, data).build()
    return data


class _Driver(Protocol):
    """The part of an asyncpg connection the seed uses (asyncpg ships no type hints)."""

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    def execute(self, query: str, *args: Any, timeout: float | None = None) -> Awaitable[str]: ...

    def fetchval(self, query: str, *args: Any, timeout: float | None = None) -> Awaitable[Any]: ...

    def copy_records_to_table(
        self,
        table_name: str,
        *,
        records: Any,
        columns: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Awaitable[str]: ...


class SeedError(Exception):
    """The database cannot be seeded as asked."""


async def seed_database(engine: AsyncEngine, scale: int = 1) -> SeedSummary:
    """Seed `scale`'s data unless the demo organization exists; report what is there."""
    plans = plans_for_scale(scale)
    started = time.perf_counter()
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = cast(_Driver, raw.driver_connection)
        created = await _seed_once(driver, plans)
        if created:
            await driver.execute(f"ANALYZE {', '.join(SEEDED_TABLES)}", timeout=DB_TIMEOUT_SECONDS)
        counts = await _count_rows(driver)
    return SeedSummary(
        scale=scale,
        created=created,
        counts=counts,
        users=listed_users(plans),
        seconds=time.perf_counter() - started,
        expected_engagements=sum(plan.engagements for plan in plans),
    )


def listed_users(plans: Sequence[OrgPlan]) -> tuple[SeedUser, ...]:
    """Admins, staff and the first five clients of each organization (no other rows built)."""
    data = Dataset()
    for plan in plans:
        _OrgBuilder(plan, data).people()
    return tuple(data.users)


async def _seed_once(driver: _Driver, plans: Sequence[OrgPlan]) -> bool:
    """In one transaction: seed everything, or nothing when the demo organization exists."""
    async with driver.transaction():
        await driver.execute("SET LOCAL statement_timeout = 0", timeout=DB_TIMEOUT_SECONDS)
        await driver.execute(
            "SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_KEY, timeout=DB_TIMEOUT_SECONDS
        )
        exists = await driver.fetchval(
            "SELECT EXISTS (SELECT FROM organizations WHERE id = $1)", DEMO_ORG_ID
        )
        if exists:
            return False
        await _require_rls_bypass(driver)
        data = await asyncio.to_thread(build_dataset, plans)
        await _write(driver, data)
        return True


async def _require_rls_bypass(driver: _Driver) -> None:
    bypass = await driver.fetchval(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if not bypass:
        raise SeedError(
            "Seeding writes every organization at once and needs the owner connection "
            "(a superuser or a BYPASSRLS role) in DATABASE_URL."
        )


async def _write(driver: _Driver, data: Dataset) -> None:
    for table, columns in TABLE_COLUMNS.items():
        rows = data.rows[table]
        if rows:
            await driver.copy_records_to_table(
                table, records=rows, columns=columns, timeout=DB_TIMEOUT_SECONDS
            )
    if data.conversions:
        proposals, orders, engagements = (
            list(column) for column in zip(*data.conversions, strict=True)
        )
        await driver.execute(
            """
            UPDATE proposals p
            SET converted_order_id = c.order_id, converted_engagement_id = c.engagement_id
            FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS c(id, order_id, engagement_id)
            WHERE p.id = c.id
            """,
            proposals,
            orders,
            engagements,
            timeout=DB_TIMEOUT_SECONDS,
        )


async def _count_rows(driver: _Driver) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in SEEDED_TABLES:
        value = await driver.fetchval(f"SELECT count(*) FROM {table}", timeout=DB_TIMEOUT_SECONDS)
        counts[table] = int(value)
    return counts


def format_summary(summary: SeedSummary) -> str:
    """A few lines for the terminal: what happened, row counts, the demo logins."""
    if summary.created:
        head = f"Seeded scale {summary.scale} in {summary.seconds:.1f}s."
    else:
        head = f"{DEMO_ORG_NAME} already exists: nothing added."
    counts = ", ".join(f"{table} {count:,}" for table, count in summary.counts.items())
    lines = [head, f"Rows: {counts}.", "Users (engagement-api token --email EMAIL [--org ORG]):"]
    width = max(len(user.email) for user in summary.users)
    for user in summary.users:
        lines.append(
            f"  {user.email:<{width}}  {user.role.name:<6}  {user.organization:<12}  {user.id}"
        )
    return "\n".join(lines)


async def _seed_url(database_url: str, scale: int) -> SeedSummary:
    options = EngineOptions(pool_size=1, max_overflow=0, statement_timeout_ms=600_000)
    engine = create_engine(database_url, options)
    try:
        return await seed_database(engine, scale)
    finally:
        await engine.dispose()


def run_seed(scale: int = 1, *, database_url: str | None = None) -> int:
    """CLI entry: migrate to head, seed, print a summary. 0 on success, 1 or 2 on errors."""
    if scale < 1:
        print("error: --scale must be at least 1", file=sys.stderr)
        return 2
    url = database_url or resolve_database_url(get_settings())
    migrate.upgrade(url)
    try:
        summary = asyncio.run(_seed_url(url, scale))
    except SeedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    if not summary.matches_scale:
        print(
            f"warning: the database holds {summary.counts['engagements']:,} engagements, "
            f"scale {scale} creates {summary.expected_engagements:,}; it was seeded at another "
            "scale. Seed a fresh database for this one.",
            file=sys.stderr,
        )
        return 1
    return 0
