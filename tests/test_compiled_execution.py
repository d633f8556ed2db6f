"""Compiled execution answers exactly what stock execution answers.

Two servers on the same database, one with `EXECUTION=compiled` and one with
`EXECUTION=stock`, get the same generated documents: any query the contract allows (fields,
arguments inline or as variables, good and bad values, aliases, `__typename`, inline
fragments and named fragments, the `node` interface), as every kind of viewer (ADMIN,
STAFF, CLIENT, anonymous). Their answers must be the same JSON, errors included (messages,
paths, locations, codes; the request id of a masked error is per request and left out).
A second generator walks object fields down to eleven levels, so that relation fields
(resolved a whole level at once by the compiler) are reached under lists of parents, with
null keys and rows the viewer may not see. A third (`FailingBranches`) makes several fields
fail at once, so that errors null the same position or one above another. Bounded:
`COMPILED_EXAMPLES` documents per test (default 150).
"""

import base64
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    parse,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engagement_api.db.enums import ProposalStatus, Role
from engagement_api.schema.fragments import fragments_of
from engagement_api.schema.nulled_positions import NulledPositions
from tests.conftest import RunningServer, start_server, stop_server
from tests.factories import BASE_TIME, World

EXAMPLES = int(os.environ.get("COMPILED_EXAMPLES", "150"))
CONTRACT: GraphQLSchema = build_schema(
    (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
)
MAX_DEPTH = 7
"""Object levels below the root (a connection's node is three levels below it)."""


@dataclass
class Pools:
    """Values the generated arguments draw from: ids and cursors of the world (each kind,
    another organization's, malformed ones) and the viewers' tokens."""

    ids: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=lambda: ["bogus", ""])
    tokens: dict[str, str | None] = field(default_factory=dict)


@pytest.fixture(scope="module")
async def pools(owner_engine: Any) -> Pools:
    world = World(owner_engine)
    org = await world.organization("Differential")
    admin = await world.user(org, Role.ADMIN)
    staff = await world.user(org, Role.STAFF)
    clients = [await world.user(org, Role.CLIENT) for _ in range(2)]
    service = await world.service(org)
    made = [org, admin, staff, *clients, service]
    for n, client in enumerate(clients * 2):
        proposal = await world.proposal(org, client, ProposalStatus.SENT)
        engagement = await world.engagement(org, client, name=f"E{n}", proposal_id=proposal.id)
        project = await world.project(engagement, service_id=service.id, description="d")
        order = await world.order(org, client, engagement)
        conversation = await world.conversation(engagement, subject=f"S{n}")
        for m in range(3):
            sender = staff if m % 2 else client
            await world.message(
                conversation,
                sender,
                f"m{m}",
                is_internal=m == 1,
                at=BASE_TIME.replace(hour=n, minute=m),
                attachments=[{"name": "a.txt", "url": "https://x.test/a", "size": m}],
            )
        made += [proposal, engagement, project, order, conversation]
    # Null keys and hidden rows behind relation fields: an engagement without proposal, a
    # project without service, an order without engagement, a converted proposal, and a
    # message from the other client (a CLIENT viewer may not see that sender: a non-null
    # relation that finds nothing).
    bare = await world.engagement(org, clients[0], name="Bare")
    unserviced = await world.project(bare, description=None)
    loose = await world.order(org, clients[0])
    converted = await world.proposal(
        org,
        clients[0],
        ProposalStatus.SIGNED,
        converted_order_id=loose.id,
        converted_engagement_id=bare.id,
    )
    talk = await world.conversation(bare, subject="Crossed")
    await world.message(talk, clients[0], "mine", at=BASE_TIME.replace(hour=20))
    await world.message(talk, clients[1], "theirs", at=BASE_TIME.replace(hour=21))
    made += [bare, unserviced, loose, converted, talk]
    other = await world.organization("Elsewhere")
    outsider = await world.user(other, Role.CLIENT)
    made += [other, outsider, await world.engagement(other, outsider)]
    pools = Pools(ids=[item.gid for item in made] + ["bogus", "VXNlcjo="])
    pools.tokens = {
        "ADMIN": admin.token,
        "STAFF": staff.token,
        "CLIENT": clients[0].token,
        "anonymous": None,
    }
    return pools


@pytest.fixture(scope="module")
def servers(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    logs = tmp_path_factory.mktemp("differential")
    compiled = start_server(database_url, str(logs / "compiled.log"), EXECUTION="compiled")
    stock = start_server(database_url, str(logs / "stock.log"), EXECUTION="stock")
    yield compiled, stock
    stop_server(compiled)
    stop_server(stock)


@pytest.fixture(scope="module")
def cursors(pools: Pools, servers: tuple[RunningServer, RunningServer]) -> Pools:
    """Real cursors of every connection, read once (by stock execution) as STAFF."""
    query = """{ engagements(first: 3) { edges { cursor node {
        projects { edges { cursor } } orders { edges { cursor } }
        conversations { edges { cursor node { messages(last: 2) { edges { cursor } } } } } } } }
      proposals(first: 2) { edges { cursor } } }"""
    with httpx.Client(timeout=30) as http:
        body = _post(http, servers[1], query, {}, pools.tokens["STAFF"])
    pools.cursors += sorted(set(_values_of(body, "cursor")))
    return pools


def _values_of(value: Any, key: str) -> Iterator[Any]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name == key:
                yield item
            yield from _values_of(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _values_of(item, key)


# Documents ------------------------------------------------------------------------------


class Document:
    """A document being drawn: its variables and named fragments."""

    max_depth = MAX_DEPTH

    def __init__(self, draw: st.DrawFn, pools: Pools) -> None:
        self.draw = draw
        self.pools = pools
        self.names = itertools.count()
        self.variables: dict[str, tuple[str, Any]] = {}
        self.fragments: list[str] = []

    def selection(self, parent: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
        names = sorted(parent.fields)
        chosen = self.draw(st.lists(st.sampled_from(names), min_size=0, max_size=4))
        parts = [self.field(parent, name, depth) for name in chosen]
        if not parts or self.draw(st.booleans()):
            parts.insert(self.draw(st.integers(0, len(parts))), "__typename")
        if isinstance(parent, GraphQLObjectType) and self.draw(st.integers(0, 5)) == 0:
            parts = [self.wrapped(parent, parts)]
        return " ".join(parts)

    def wrapped(self, parent: GraphQLObjectType, parts: list[str]) -> str:
        """The selections in an inline fragment, or in a named fragment spread."""
        if self.draw(st.booleans()):
            return f"... on {parent.name} {{ {' '.join(parts)} }}"
        name = f"F{next(self.names)}"
        self.fragments.append(f"fragment {name} on {parent.name} {{ {' '.join(parts)} }}")
        return f"...{name}"

    def field(self, parent: GraphQLObjectType | GraphQLInterfaceType, name: str, depth: int) -> str:
        definition = parent.fields[name]
        alias = self.alias()
        arguments = self.arguments(definition.args)
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return f"{alias}{name}{arguments}"
        if depth >= self.max_depth:
            return "__typename"
        if isinstance(named, GraphQLInterfaceType):
            return f"{alias}{name}{arguments} {{ {self.abstract(named, depth + 1)} }}"
        return f"{alias}{name}{arguments} {{ {self.selection(named, depth + 1)} }}"

    def alias(self) -> str:
        return f"a{next(self.names)}: " if self.draw(st.integers(0, 4)) == 0 else ""

    def abstract(self, interface: GraphQLInterfaceType, depth: int) -> str:
        types = sorted(CONTRACT.get_possible_types(interface), key=lambda item: item.name)
        chosen = self.draw(st.lists(st.sampled_from(types), min_size=0, max_size=2, unique=True))
        parts = [self.selection(interface, depth)]
        parts += [f"... on {item.name} {{ {self.selection(item, depth)} }}" for item in chosen]
        return " ".join(parts)

    def arguments(self, definitions: dict[str, Any]) -> str:
        given = []
        for name, argument in sorted(definitions.items()):
            required = isinstance(argument.type, GraphQLNonNull)
            if not required and self.draw(st.integers(0, 2)) == 0:
                continue
            value = self.draw(self.values(name, argument.type))
            if self.draw(st.booleans()):
                variable = f"v{next(self.names)}"
                self.variables[variable] = (str(argument.type), value)
                given.append(f"{name}: ${variable}")
            else:
                given.append(f"{name}: {_literal(value, argument.type)}")
        return f"({', '.join(given)})" if given else ""

    def values(self, name: str, input_type: GraphQLInputType) -> st.SearchStrategy[Any]:
        if isinstance(input_type, GraphQLNonNull):
            return self.values(name, input_type.of_type)
        if isinstance(input_type, GraphQLList):
            return st.lists(self.values(name, input_type.of_type), max_size=3)
        if isinstance(input_type, GraphQLEnumType):
            return st.sampled_from(sorted(input_type.values))
        if name in ("after", "before"):
            return st.sampled_from(self.pools.cursors)
        if input_type.name == "ID":
            return st.sampled_from(self.pools.ids)
        if input_type.name == "Int":
            return st.sampled_from([0, 1, 2, 3, 10, 100, 101, -1])
        return st.sampled_from(["x", ""])

    def text(self, selection: str) -> str:
        declared = ", ".join(f"${name}: {kind}" for name, (kind, _) in self.variables.items())
        head = f"query Q({declared})" if declared else "query Q"
        return " ".join([f"{head} {{ {selection} }}", *self.fragments])


class RelationWalk(Document):
    """A document that goes down through object fields at every level (one or two of them,
    beside a few leaves), so that relation fields (by id, connections) are reached deep
    under lists of parents, with aliases, fragments and repeated fields as `Document`
    draws them: the places where a whole level is resolved at once (a message's sender is
    ten levels below the root, under engagements and their conversations)."""

    max_depth = 11

    def selection(self, parent: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
        names = sorted(parent.fields)
        objects = [name for name in names if not _is_leaf_field(parent, name)]
        leaves = [name for name in names if _is_leaf_field(parent, name)]
        chosen = (
            self.draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=2)) if leaves else []
        )
        if objects and depth < self.max_depth:
            chosen += self.draw(st.lists(st.sampled_from(objects), min_size=1, max_size=2))
        parts = [self.field(parent, name, depth) for name in chosen] or ["__typename"]
        if isinstance(parent, GraphQLObjectType) and self.draw(st.integers(0, 5)) == 0:
            parts = [self.wrapped(parent, parts)]
        return " ".join(parts)


class FailingBranches(Document):
    """A document of two to four nullable root fields (found by id), each going down
    through object fields with page arguments mostly out of range or unreadable: several
    fields fail at once, at every depth, so that errors null the same position, or one
    above another's. Aliases only at the root (the alias limit)."""

    max_depth = 5
    ROOTS = ("engagement", "conversation", "node", "nodes")
    root = ""

    def selection(self, parent: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
        if depth == 0:
            chosen = self.draw(st.lists(st.sampled_from(self.ROOTS), min_size=2, max_size=4))
            parts = []
            for n, name in enumerate(chosen):
                self.root = name
                parts.append(f"r{n}: {self.field(parent, name, depth)}")
            return " ".join(parts)
        names = sorted(parent.fields)
        leaves = [name for name in names if _is_leaf_field(parent, name)]
        objects = [name for name in names if name not in leaves]
        chosen = self.draw(st.lists(st.sampled_from(leaves), max_size=2, unique=True))
        if objects and depth < self.max_depth:
            chosen += self.draw(
                st.lists(st.sampled_from(objects), min_size=1, max_size=3, unique=True)
            )
        return " ".join(self.field(parent, name, depth) for name in chosen) or "__typename"

    def alias(self) -> str:
        return ""

    def values(self, name: str, input_type: GraphQLInputType) -> st.SearchStrategy[Any]:
        named = get_named_type(input_type)
        if named.name == "Int" and self.draw(st.integers(0, 3)) > 0:
            return st.sampled_from([-1, 101])
        if name in ("after", "before") and self.draw(st.booleans()):
            return st.just("bogus")
        if named.name == "ID" and name == "id":
            kinds = {"engagement": ["Engagement"], "conversation": ["Conversation"]}
            wanted = kinds.get(self.root, ["Engagement", "Conversation"])
            return st.sampled_from([gid for gid in self.pools.ids if _type_of(gid) in wanted])
        return super().values(name, input_type)


def _is_leaf_field(parent: GraphQLObjectType | GraphQLInterfaceType, name: str) -> bool:
    return is_leaf_type(get_named_type(parent.fields[name].type))


def _literal(value: Any, input_type: GraphQLInputType) -> str:
    named = get_named_type(input_type)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item, input_type) for item in value) + "]"
    if isinstance(named, GraphQLEnumType):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return str(value)


@st.composite
def documents(
    draw: st.DrawFn, pools: Pools, kind: type[Document] = Document
) -> tuple[str, dict[str, Any]]:
    document = kind(draw, pools)
    assert CONTRACT.query_type is not None
    selection = document.selection(CONTRACT.query_type, 0)
    variables = {name: value for name, (_, value) in document.variables.items()}
    return document.text(selection), variables


# The comparison -------------------------------------------------------------------------


def _post(
    http: httpx.Client,
    server: RunningServer,
    query: str,
    variables: dict[str, Any],
    token: str | None,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = http.post(
        server.graphql_url, json={"query": query, "variables": variables}, headers=headers
    )
    if not response.headers.get("content-type", "").startswith("application/"):
        return {"status": response.status_code, "text": response.text}
    body: dict[str, Any] = response.json()
    body["status"] = response.status_code
    body.pop("extensions", None)  # the statement count: how, not what
    for error in body.get("errors", ()):
        error.get("extensions", {}).pop("requestId", None)
    return body


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@BOUNDED
@given(data=st.data())
def test_compiled_and_stock_execution_answer_the_same(
    data: st.DataObject, cursors: Pools, servers: tuple[RunningServer, RunningServer]
) -> None:
    _compare(data, cursors, servers, Document)


@BOUNDED
@given(data=st.data())
def test_relations_deep_under_lists_answer_the_same(
    data: st.DataObject, cursors: Pools, servers: tuple[RunningServer, RunningServer]
) -> None:
    _compare(data, cursors, servers, RelationWalk)


def _compare(
    data: st.DataObject,
    cursors: Pools,
    servers: tuple[RunningServer, RunningServer],
    kind: type[Document],
) -> None:
    query, variables = data.draw(documents(cursors, kind), label="document")
    viewer = data.draw(st.sampled_from(sorted(cursors.tokens)), label="viewer")
    token = cursors.tokens[viewer]
    compiled, stock = servers
    with httpx.Client(timeout=30) as http:
        expected = _post(http, stock, query, variables, token)
        answered = _post(http, compiled, query, variables, token)
    event("data" if expected.get("data") else "no data")
    event(f"{len(expected.get('errors', ()))} errors")
    assert answered == expected


@BOUNDED
@given(data=st.data())
def test_documents_failing_in_many_branches_report_the_same_errors(
    data: st.DataObject, cursors: Pools, servers: tuple[RunningServer, RunningServer]
) -> None:
    """Errors that null the same position, or one above another, are reported the same way
    whichever field failed first: one error per nulled position, none below another's, in
    document order. Where several fields null one position, graphql-core's executor
    reports whichever failed first in time, so there the error may differ (its position
    may not)."""
    query, variables = data.draw(documents(cursors, FailingBranches), label="document")
    viewer = data.draw(st.sampled_from(["ADMIN", "STAFF", "CLIENT"]), label="viewer")
    compiled, stock = servers
    with httpx.Client(timeout=30) as http:
        expected = _post(http, stock, query, variables, cursors.tokens[viewer])
        answered = _post(http, compiled, query, variables, cursors.tokens[viewer])
    errors = expected.get("errors", ())
    event(f"{len(errors)} errors")
    assert answered.keys() == expected.keys()
    assert answered.get("data") == expected.get("data")
    positions = NulledPositions(CONTRACT, *_operation_and_fragments(query))
    for body in (expected, answered):
        located = [error for error in body.get("errors", ()) if "path" in error]
        nulled = [_null_above(body.get("data"), error["path"]) for error in located]
        assert nulled == sorted(set(nulled), key=nulled.index), "one error per nulled position"
        assert nulled == [positions.of(error["path"]) for error in located]
        for error, position in zip(located, nulled, strict=True):
            assert not any(position[:n] in nulled for n in range(len(position))), error
    # The same positions, in the same order; at a tied position (two fields null it, each
    # execution reports the one that failed first for it) the error itself may differ.
    answered_errors = answered.get("errors", ())
    assert len(answered_errors) == len(errors)
    tied = [
        n
        for n, (mine, theirs) in enumerate(zip(answered_errors, errors, strict=True))
        if mine != theirs
        and "path" in mine
        and "path" in theirs
        and _null_above(answered["data"], mine["path"])
        == _null_above(expected["data"], theirs["path"])
    ]
    event(f"{len(tied)} tied positions reported by another error")
    if tied:
        answered["errors"] = [errors[n] if n in tied else e for n, e in enumerate(answered_errors)]
    assert answered == expected


def _operation_and_fragments(
    query: str,
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return operation, fragments_of(document)


def _null_above(data: Any, path: list[str | int]) -> tuple[str | int, ...]:
    """The first position along `path` where `data` holds null: what an error there nulled."""
    value = data
    for length, step in enumerate(path):
        if value is None:
            return tuple(path[:length])
        value = value[step]
    assert value is None, path
    return tuple(path)


SHARED_ROW_UNDER_A_FAILED_FIELD = [
    """query($id: ID!) {
      a: conversation(id: $id) { engagement { client { id } %s } }
      b: conversation(id: $id) { engagement { client { id } } } }""",
    """query($id: ID!) { conversation(id: $id) {
      engagement { client { id } %s }
      messages(first: 1) { edges { node {
        conversation { engagement { client { id } } } } } } } }""",
]
"""Two branches that wait on the same row (the engagement's client) while a sibling of one
fails: stock execution cancels the failed field's siblings."""
FAILING_FIELDS = [
    "orders(first: -1) { totalCount }",
    "orders(first: 101) { totalCount }",
    'conversations(after: "bogus") { totalCount }',
    "projects(first: 1, last: 1) { totalCount }",
]


def test_a_field_that_fails_beside_a_shared_load_answers_the_same(
    pools: Pools, servers: tuple[RunningServer, RunningServer]
) -> None:
    """A cancelled waiter of a DataLoader's future no longer cancels it for the others,
    which failed the whole request (500) under stock execution."""
    conversations = [gid for gid in pools.ids if _type_of(gid) == "Conversation"]
    assert conversations
    compiled, stock = servers
    with httpx.Client(timeout=30) as http:
        for gid, shape, failing, viewer in itertools.product(
            conversations, SHARED_ROW_UNDER_A_FAILED_FIELD, FAILING_FIELDS, sorted(pools.tokens)
        ):
            query = shape % failing
            token = pools.tokens[viewer]
            expected = _post(http, stock, query, {"id": gid}, token)
            assert expected["status"] == 200, (viewer, failing, expected)
            assert _post(http, compiled, query, {"id": gid}, token) == expected


def _type_of(gid: str) -> str:
    try:
        return base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode().partition(":")[0]
    except (ValueError, UnicodeError):
        return ""
