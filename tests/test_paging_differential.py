"""Every connection pages as the reference model says, for every viewer and on every path.

Hypothesis generates small worlds through the real database (two organizations; an ADMIN,
a STAFF member and several CLIENTs; engagements, projects, conversations and messages in
every status and phase, soft-deleted rows, conversations never messaged or with internal
messages only, many rows sharing one `created_at`; orders; proposals in every status).
For every connection of the contract, every viewer, and every path that reaches it (the
root list, a lookup by id, `node(id)`, nested in a list, inside a mutation payload), it
pages forward (`first`/`after`) and, where the contract offers it, backward
(`last`/`before`) at generated page sizes and filters to the end, and compares each page
with `tests/paging_model.py`: the ids in order, `totalCount`, `hasNextPage` and
`hasPreviousPage` as the Relay connection spec defines them, `startCursor`/`endCursor` as
the first and last edges' cursors, and the whole walk as the model's list, each row once.
Each request also goes to a second server running stock execution (FAST_PATH=false):
both answers must be the same JSON. A lookup of a parent without filters reads its page
in the parent's own statement, `node(id)` and filtered pages do not: both read paths run.

Bounded by the hypothesis profile (tests/conftest.py): `ci` runs a few worlds, each
through every connection x viewer x path; HYPOTHESIS_PROFILE=thorough runs many more.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import (
    ConversationStatus,
    EngagementStatus,
    OrderStatus,
    ProjectPhase,
    ProjectStatus,
    ProposalStatus,
    Role,
)
from engagement_api.db.writes import recompute_message_activity
from tests import paging_model as model
from tests.conftest import RunningServer, start_server, stop_server
from tests.factories import BASE_TIME, Made, World

T = TypeVar("T")


def _profile() -> settings:
    """The hypothesis settings in force (tests/conftest.py loads the profile)."""
    current = settings.default
    assert current is not None
    return current


WORLDS = max(2, _profile().max_examples // 20)
"""Worlds per run: 2 under the `ci` profile, each paged through every connection, viewer
and path."""
TIMES = [BASE_TIME + timedelta(minutes=n) for n in range(3)]
"""Few instants, so that many rows share one `created_at` and order by id."""
SIZES = [1, 2, 2, 3, None]
"""Page sizes walked (None: the default size, 20)."""
MAX_PAGE = 100


@pytest.fixture(scope="module")
def stock_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    log = str(tmp_path_factory.mktemp("stock") / "server.log")
    running = start_server(database_url, log, FAST_PATH="false")
    yield running
    stop_server(running)


# Worlds ----------------------------------------------------------------------------------

times = st.sampled_from(TIMES)


@dataclass(frozen=True)
class MessagePlan:
    internal: bool
    deleted: bool
    at: Any
    by_client: bool


@dataclass(frozen=True)
class ConversationPlan:
    status: ConversationStatus
    at: Any
    messages: list[MessagePlan]


@dataclass(frozen=True)
class EngagementPlan:
    client: int
    status: EngagementStatus
    at: Any
    projects: list[tuple[ProjectPhase, ProjectStatus, Any, bool]]
    conversations: list[ConversationPlan]


@dataclass(frozen=True)
class OrgPlan:
    clients: int
    engagements: list[EngagementPlan]
    orders: list[tuple[int, int | None, OrderStatus, Any]]
    proposals: list[tuple[int, ProposalStatus, Any]]


sometimes = st.sampled_from([False, False, True])
"""True one time in three: an internal or deleted message, a deleted project."""
messages = st.builds(MessagePlan, sometimes, sometimes, times, st.booleans())
only_internal = messages.map(lambda m: MessagePlan(True, False, m.at, False))
threads = st.sampled_from(["many", "many", "internal", "none"]).flatmap(
    lambda kind: (
        st.lists(messages, min_size=3, max_size=6)
        if kind == "many"
        else st.lists(only_internal, min_size=1, max_size=2)
        if kind == "internal"
        else st.just([])
    )
)
"""A conversation's messages: several, or internal ones only, or none at all."""
conversations = st.builds(ConversationPlan, st.sampled_from(ConversationStatus), times, threads)


@st.composite
def org_plans(draw: st.DrawFn, most: int) -> OrgPlan:
    clients = 2
    client = st.integers(0, clients - 1)
    projects = st.tuples(
        st.sampled_from(ProjectPhase), st.sampled_from(ProjectStatus), times, sometimes
    )
    engagement = st.builds(
        EngagementPlan,
        client,
        st.sampled_from(EngagementStatus),
        times,
        st.lists(projects, min_size=most, max_size=2 * most),
        st.lists(conversations, min_size=most, max_size=most + 1),
    )
    engagements = draw(st.lists(engagement, min_size=min(2, most), max_size=most))
    on = st.none() | st.integers(0, len(engagements) - 1)
    orders = st.tuples(client, on, st.sampled_from(OrderStatus), times)
    proposals = st.tuples(client, st.sampled_from(ProposalStatus), times)
    return OrgPlan(
        clients,
        engagements,
        draw(st.lists(orders, min_size=most, max_size=2 * most)),
        draw(st.lists(proposals, min_size=most, max_size=2 * most)),
    )


async def build_org(world: World, plan: OrgPlan, into: model.Model) -> None:
    """Writes the organization of `plan` and records its rows in the model."""
    org = await world.organization("Paging")

    async def user(role: Role) -> Made:
        made = await world.user(org, role)
        into.users.append(model.User(made.id, made.gid, org.id, BASE_TIME, role, made.token))
        return made

    await user(Role.ADMIN)
    staff = await user(Role.STAFF)
    clients = [await user(Role.CLIENT) for _ in range(plan.clients)]
    engagements: list[Made] = []
    for e in plan.engagements:
        client = clients[e.client]
        made = await world.engagement(org, client, e.status, created_at=e.at)
        engagements.append(made)
        into.engagements.append(
            model.Engagement(made.id, made.gid, org.id, e.at, client.id, e.status)
        )
        for phase, project_status, at, deleted in e.projects:
            gone = BASE_TIME if deleted else None
            project = await world.project(
                made, phase, project_status, created_at=at, deleted_at=gone
            )
            into.projects.append(
                model.Project(
                    project.id, project.gid, org.id, at, made.id, project_status, phase, deleted
                )
            )
        for c in e.conversations:
            conversation = await world.conversation(made, c.status, created_at=c.at)
            into.conversations.append(
                model.Conversation(
                    conversation.id, conversation.gid, org.id, c.at, made.id, c.status
                )
            )
            for m in c.messages:
                sender = client if m.by_client else staff
                gone = BASE_TIME if m.deleted else None
                message = await world.message(
                    conversation, sender, is_internal=m.internal, at=m.at, deleted_at=gone
                )
                into.messages.append(
                    model.Message(
                        message.id,
                        message.gid,
                        org.id,
                        m.at,
                        conversation.id,
                        m.internal,
                        m.deleted,
                    )
                )
            if c.messages:  # activity from the messages left, as deleting one leaves it
                async with world.engine.begin() as connection:
                    await connection.execute(*recompute_message_activity(conversation.id))
    for client_index, engagement_index, order_status, at in plan.orders:
        on = engagements[engagement_index] if engagement_index is not None else None
        client = clients[client_index]
        order = await world.order(org, client, on, order_status, created_at=at)
        into.orders.append(
            model.Order(
                order.id, order.gid, org.id, at, client.id, on.id if on else None, order_status
            )
        )
    for client_index, proposal_status, at in plan.proposals:
        client = clients[client_index]
        proposal = await world.proposal(org, client, proposal_status, created_at=at)
        into.proposals.append(
            model.Proposal(proposal.id, proposal.gid, org.id, at, client.id, proposal_status)
        )


# Paths -----------------------------------------------------------------------------------

EDGE_FIELDS = {
    "Engagement": "status createdAt",
    "Project": "phase status createdAt",
    "Conversation": "status createdAt lastMessageAt",
    "Order": "status createdAt",
    "Proposal": "status createdAt",
    "Message": "isInternal createdAt sender { id name }",
}
"""Node fields read along (compared between the two executors only)."""


def selection(node_type: str) -> str:
    return (
        "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
        f" edges {{ cursor node {{ __typename id {EDGE_FIELDS[node_type]} }} }}"
    )


def enum_list(values: Sequence[Any] | None) -> str:
    return "" if values is None else "[" + ", ".join(value.name for value in values) + "]"


@dataclass
class Walk:
    """One connection read by one viewer on one path: the document (its page arguments as
    variables), how to find the connection in an answer (None: its parent is absent), and
    the rows the model says it holds (None: the parent is not visible to the viewer)."""

    label: str
    viewer: model.User
    document: str
    variables: dict[str, Any]
    find: Callable[[dict[str, Any]], Any]
    rows: list[Any] | None
    backward: bool = False
    activity: dict[str, datetime | None] | None = None
    """For conversations: each one's lastMessageAt as the model has it for the viewer."""


def _edges_node(data: Any, gid: str) -> Any:
    for edge in data["edges"]:
        if edge["node"]["id"] == gid:
            return edge["node"]
    return None


PAGING = "$first: Int, $after: String"
ARGS = "first: $first, after: $after"


def engagement_child_walks(
    world: model.Model,
    viewer: model.User,
    name: str,
    node_type: str,
    arguments: str,
    parent: model.Engagement,
    rows: list[Any] | None,
) -> Iterator[Walk]:
    """`name` of an engagement: by lookup, node(id), in the engagements list, and in the
    payload of a no-op status change (which a CLIENT may not make: null there)."""
    args = ARGS + (f", {arguments}" if arguments else "")
    inner = f"{name}({args}) {{ {selection(node_type)} }}"
    variables = {"id": parent.gid}
    yield Walk(
        f"engagement.{name}",
        viewer,
        f"query($id: ID!, {PAGING}) {{ engagement(id: $id) {{ id {inner} }} }}",
        variables,
        lambda d: d["engagement"] and d["engagement"][name],
        rows,
    )
    yield Walk(
        f"node.{name}",
        viewer,
        f"query($id: ID!, {PAGING}) {{ node(id: $id) {{ ... on Engagement {{ {inner} }} }} }}",
        variables,
        lambda d: d["node"] and d["node"][name],
        rows,
    )
    yield Walk(
        f"engagements.{name}",
        viewer,
        f"query({PAGING}) {{ engagements(first: {MAX_PAGE}) {{ edges {{ node {{ id"
        f" {inner} }} }} }} }}",
        {},
        lambda d: (_edges_node(d["engagements"], parent.gid) or {}).get(name),
        rows,
    )
    payload_rows = rows if viewer.role is not Role.CLIENT else None
    yield Walk(
        f"setEngagementStatus.{name}",
        viewer,
        f"mutation($id: ID!, {PAGING}) {{ setEngagementStatus(input: {{id: $id, status:"
        f" {parent.status.name}}}) {{ engagement {{ {inner} }} }} }}",
        variables,
        lambda d: (
            d["setEngagementStatus"]["engagement"] and d["setEngagementStatus"]["engagement"][name]
        ),
        payload_rows,
    )


MESSAGE_PAGING = "$first: Int, $after: String, $last: Int, $before: String"
MESSAGE_ARGS = "first: $first, after: $after, last: $last, before: $before"


def message_walks(
    world: model.Model, viewer: model.User, parent: model.Conversation, backward: bool
) -> Iterator[Walk]:
    visible = world.sees_conversation(viewer, parent)
    rows = world.messages_of(viewer, parent.id) if visible else None
    inner = f"messages({MESSAGE_ARGS}) {{ {selection('Message')} }}"
    variables = {"id": parent.gid}
    yield Walk(
        "conversation.messages",
        viewer,
        f"query($id: ID!, {MESSAGE_PAGING}) {{ conversation(id: $id) {{ id {inner} }} }}",
        variables,
        lambda d: d["conversation"] and d["conversation"]["messages"],
        rows,
        backward,
    )
    yield Walk(
        "node.messages",
        viewer,
        f"query($id: ID!, {MESSAGE_PAGING}) {{ node(id: $id) {{ ... on Conversation {{ {inner}"
        " } } }",
        variables,
        lambda d: d["node"] and d["node"]["messages"],
        rows,
        backward,
    )
    engagement = next(e for e in world.engagements if e.id == parent.engagement)
    yield Walk(
        "conversations.messages",
        viewer,
        f"query($e: ID!, {MESSAGE_PAGING}) {{ engagement(id: $e) {{ conversations(first:"
        f" {MAX_PAGE}) {{ edges {{ node {{ id {inner} }} }} }} }} }}",
        {"e": engagement.gid},
        lambda d: (
            d["engagement"]
            and (_edges_node(d["engagement"]["conversations"], parent.gid) or {}).get("messages")
        ),
        rows,
        backward,
    )
    yield Walk(
        "setConversationStatus.messages",
        viewer,
        f"mutation($id: ID!, {MESSAGE_PAGING}) {{ setConversationStatus(input: {{id: $id,"
        f" status: {parent.status.name}}}) {{ conversation {{ {inner} }} }} }}",
        variables,
        lambda d: (
            d["setConversationStatus"]["conversation"]
            and d["setConversationStatus"]["conversation"]["messages"]
        ),
        rows if viewer.role is not Role.CLIENT else None,
        backward,
    )


def statuses(enum: Any) -> st.SearchStrategy[list[Any] | None]:
    """No filter two times in three (a filter leaves few rows to page through)."""
    chosen = st.lists(st.sampled_from(enum), min_size=1, max_size=3, unique=True)
    return st.sampled_from([False, False, True]).flatmap(
        lambda filtered: chosen if filtered else st.none()
    )


def parents(rows: Sequence[Any], visible: Callable[[Any], bool]) -> st.SearchStrategy[Any]:
    """Mostly a parent the viewer may see, sometimes any (others' answer null)."""
    seen = [row for row in rows if visible(row)]
    return st.sampled_from([*seen, *seen, *seen, *rows])


class Draw(Protocol):
    """`DataObject.draw` (hypothesis's `DrawFn` also asks for a `__signature__`)."""

    def __call__(self, strategy: st.SearchStrategy[T], label: object = None) -> T: ...


def walks_of(world: model.Model, viewer: model.User, draw: Draw) -> list[tuple[Walk, Any]]:
    """Every connection x path for this viewer, with generated parents, filters and sizes."""
    found: list[Walk] = []
    # engagements, root
    status = draw(statuses(EngagementStatus))
    clients = [user for user in world.users if user.role is Role.CLIENT]
    client = draw(st.none() | st.sampled_from(clients))
    arguments = [f"status: {enum_list(status)}" if status else "", ""]
    if client is not None:
        arguments.append(f'clientId: "{client.gid}"')
    args = ", ".join(filter(None, [ARGS, *arguments]))
    found.append(
        Walk(
            "engagements",
            viewer,
            f"query({PAGING}) {{ engagements({args}) {{ {selection('Engagement')} }} }}",
            {},
            lambda d: d["engagements"],
            world.engagements_of(viewer, status, client.id if client else None),
        )
    )
    # proposals, root
    status = draw(statuses(ProposalStatus))
    args = ", ".join(filter(None, [ARGS, f"status: {enum_list(status)}" if status else ""]))
    found.append(
        Walk(
            "proposals",
            viewer,
            f"query({PAGING}) {{ proposals({args}) {{ {selection('Proposal')} }} }}",
            {},
            lambda d: d["proposals"],
            world.proposals_of(viewer, status),
        )
    )
    engagements = parents(world.engagements, lambda row: world.sees_engagement(viewer, row))
    for _path in range(4):  # each path of an engagement's connections gets its own draws
        parent = draw(engagements)
        visible = world.sees_engagement(viewer, parent)
        status, phase = draw(statuses(ProjectStatus)), draw(statuses(ProjectPhase))
        filters = ", ".join(
            filter(
                None,
                [
                    f"status: {enum_list(status)}" if status else "",
                    f"phase: {enum_list(phase)}" if phase else "",
                ],
            )
        )
        projects = world.projects_of(viewer, parent.id, status, phase) if visible else None
        walks = list(
            engagement_child_walks(world, viewer, "projects", "Project", filters, parent, projects)
        )
        found.append(walks[_path])
        parent = draw(engagements)
        visible = world.sees_engagement(viewer, parent)
        one = draw(st.none() | st.sampled_from(ConversationStatus))
        filters = f"status: {one.name}" if one else ""
        conversations = world.conversations_of(viewer, parent.id, one) if visible else None
        walks = list(
            engagement_child_walks(
                world, viewer, "conversations", "Conversation", filters, parent, conversations
            )
        )
        walks[_path].activity = {
            row.gid: world.last_message_at(viewer, row) for row in conversations or ()
        }
        found.append(walks[_path])
        parent = draw(engagements)
        visible = world.sees_engagement(viewer, parent)
        orders = world.orders_of(viewer, parent.id) if visible else None
        walks = list(engagement_child_walks(world, viewer, "orders", "Order", "", parent, orders))
        found.append(walks[_path])
        if world.conversations:
            sees = lambda row: world.sees_conversation(viewer, row)  # noqa: E731
            conversation = draw(parents(world.conversations, sees))
            walks = list(message_walks(world, viewer, conversation, draw(st.booleans())))
            found.append(walks[_path])
    return [(walk, draw(st.sampled_from(SIZES))) for walk in found]


# Running ---------------------------------------------------------------------------------


@dataclass
class Servers:
    http: httpx.AsyncClient
    fast: str
    stock: str
    problems: list[str] = field(default_factory=list)
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(6))

    async def ask(self, walk: Walk, variables: dict[str, Any]) -> Any:
        """The answer's data, after checking that both executors give the same JSON."""
        body = {"query": walk.document, "variables": {**walk.variables, **variables}}
        headers = {"Authorization": f"Bearer {walk.viewer.token}"}
        async with self.slots:
            fast, stock = await asyncio.gather(
                self.http.post(self.fast, json=body, headers=headers),
                self.http.post(self.stock, json=body, headers=headers),
            )
        answers = [fast.json(), stock.json()]
        for answer in answers:
            answer.pop("extensions", None)
        if answers[0] != answers[1]:
            self.problems.append(f"{walk.label}: executors differ on {body}: {answers}")
        if "errors" in answers[0] or answers[0].get("data") is None:
            self.problems.append(f"{walk.label}: errors for {body}: {answers[0]}")
            return None
        return answers[0]["data"]


def check_page(walk: Walk, page: Any, expected: model.Page, asked: dict[str, Any]) -> list[str]:
    where = f"{walk.label} as {walk.viewer.role.name} {asked}"
    found = []
    ids = [edge["node"]["id"] for edge in page["edges"]]
    if ids != expected.ids:
        found.append(f"{where}: ids {ids} != model {expected.ids}")
    if page["totalCount"] != expected.total:
        found.append(f"{where}: totalCount {page['totalCount']} != {expected.total}")
    info = page["pageInfo"]
    if (info["hasNextPage"], info["hasPreviousPage"]) != (expected.has_next, expected.has_previous):
        found.append(
            f"{where}: has next/previous {info['hasNextPage']}/{info['hasPreviousPage']}"
            f" != {expected.has_next}/{expected.has_previous}"
        )
    if walk.activity is not None:
        for edge in page["edges"]:
            shown, node = edge["node"]["lastMessageAt"], edge["node"]["id"]
            if (shown and datetime.fromisoformat(shown)) != walk.activity.get(node):
                found.append(f"{where}: {node} lastMessageAt {shown} != {walk.activity.get(node)}")
    cursors = [edge["cursor"] for edge in page["edges"]]
    if (info["startCursor"], info["endCursor"]) != (
        cursors[0] if cursors else None,
        cursors[-1] if cursors else None,
    ):
        found.append(f"{where}: start/end cursors are not the first/last edges' cursors")
    return found


async def run_walk(servers: Servers, walk: Walk, size: int | None) -> None:
    """Pages `walk` to its end and compares each page and the whole with the model."""
    rows = walk.rows
    step = size if size is not None else 20
    key, position_key = ("before", "last") if walk.backward else ("after", "first")
    cursor: str | None = None
    position: int | None = None
    seen: list[str] = []
    for _ in range(len(rows or ()) + 2):
        asked = {position_key: size, key: cursor}
        data = await servers.ask(walk, asked)
        if data is None:
            return
        page = walk.find(data)
        if rows is None:
            if page is not None:
                servers.problems.append(f"{walk.label}: a parent the viewer may not see answered")
            return
        if page is None:
            servers.problems.append(f"{walk.label}: the viewer's parent is missing")
            return
        if walk.backward:
            expected = model.backward_page(rows, position, step)
        else:
            expected = model.forward_page(rows, position, step)
        problems = check_page(walk, page, expected, asked)
        servers.problems.extend(problems)
        if problems or not page["edges"]:
            return
        ids = [edge["node"]["id"] for edge in page["edges"]]
        seen = ids + seen if walk.backward else seen + ids
        more = page["pageInfo"]["hasPreviousPage" if walk.backward else "hasNextPage"]
        if not more:
            break
        cursor = page["pageInfo"]["startCursor" if walk.backward else "endCursor"]
        ids_in_order = [row.gid for row in rows]
        position = ids_in_order.index(ids[0] if walk.backward else ids[-1])
    assert rows is not None  # the loop returned at once for a parent the viewer may not see
    if seen != [row.gid for row in rows]:
        servers.problems.append(f"{walk.label} as {walk.viewer.role.name}: walk saw {seen}")


async def run_empty_page(servers: Servers, walk: Walk) -> None:
    """`first: 0` (or `last: 0`): no edges, no cursors, whether rows follow, the count."""
    asked = {"last" if walk.backward else "first": 0}
    data = await servers.ask(walk, asked)
    if data is None or walk.rows is None:
        return
    page = walk.find(data)
    if page is None:
        servers.problems.append(f"{walk.label}: the viewer's parent is missing")
        return
    rows = walk.rows
    expected = (
        model.backward_page(rows, None, 0) if walk.backward else model.forward_page(rows, None, 0)
    )
    servers.problems.extend(check_page(walk, page, expected, asked))


@settings(
    max_examples=WORLDS,
    # An example costs seconds: CI reports the failing world as found, without shrinking it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate] if _profile().derandomize else list(Phase),
)
@given(plans=st.tuples(org_plans(most=4), org_plans(most=1)), data=st.data())
async def test_every_connection_pages_as_the_model_says(
    owner_engine: AsyncEngine,
    http: httpx.AsyncClient,
    server: RunningServer,
    stock_server: RunningServer,
    plans: tuple[OrgPlan, OrgPlan],
    data: st.DataObject,
) -> None:
    world = model.Model()
    factory = World(owner_engine)
    for plan in plans:
        await build_org(factory, plan, world)
    viewers = [user for user in world.users if user.org == world.users[0].org]
    viewers.append(next(user for user in world.users if user.org != viewers[0].org))
    servers = Servers(http, server.graphql_url, stock_server.graphql_url)
    # Everything drawn first: a draw may end the example, which must leave no coroutine.
    walks = [walk for viewer in viewers for walk in walks_of(world, viewer, data.draw)]
    runs: list[Awaitable[None]] = [run_walk(servers, walk, size) for walk, size in walks]
    runs += [run_empty_page(servers, walk) for walk, size in walks if size == 1]
    await asyncio.gather(*runs)
    assert not servers.problems, "\n".join(servers.problems[:30])
