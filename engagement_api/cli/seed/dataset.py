"""Every row of a seed, built in memory from the organizations' plans (no database)."""

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engagement_api.cli.seed.plans import (
    BASE_TIME,
    SEED_NAMESPACE,
    OrgPlan,
    SeedUser,
    organization_id,
    stable_id,
    user_id,
)
from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)

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


def listed_users(plans: Sequence[OrgPlan]) -> tuple[SeedUser, ...]:
    """Admins, staff and the first five clients of each organization (no other rows built)."""
    data = Dataset()
    for plan in plans:
        _OrgBuilder(plan, data).people()
    return tuple(data.users)
