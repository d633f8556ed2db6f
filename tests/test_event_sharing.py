"""Which selections an audience shares: derived from the schema's permission classes and
field metadata, through aliases, fragments and inline fragments."""

from collections.abc import AsyncIterator

import strawberry
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from graphql import build_schema as build_graphql_schema
from hypothesis import given
from hypothesis import strategies as st

from engagement_api.schema.event_sharing import PER_VIEWER, sharing, viewer_dependent_fields
from engagement_api.schema.permissions import IsAuthenticated, IsStaff
from engagement_api.schema.schema import build_schema


@strawberry.type
class Note:
    text: str
    secret: str = strawberry.field(permission_classes=[IsStaff])
    mine: bool = strawberry.field(metadata={PER_VIEWER: True})
    open: str = strawberry.field(permission_classes=[IsAuthenticated])


@strawberry.type
class Event:
    note: Note
    label: str


@strawberry.type
class Query:
    ping: str = "pong"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def events(self, after: str | None = None) -> AsyncIterator[Event]:
        yield Event(note=Note(text="", secret="", mine=False, open=""), label="")


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)
DEPENDENT = viewer_dependent_fields(SCHEMA)
GRAPHQL_SCHEMA = build_graphql_schema(SCHEMA.as_str())

SAFE = ["text", "open", "alias: text", "__typename"]
PER_VIEWER_FIELDS = ["secret", "mine", "alias2: secret"]


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, bool]:
    """A subscription document and whether it reads a per-viewer field."""
    fields = draw(st.lists(st.sampled_from(SAFE + PER_VIEWER_FIELDS), min_size=1, max_size=4))
    wrap = draw(st.sampled_from(["plain", "fragment", "inline"]))
    body = " ".join(fields)
    fragments = ""
    if wrap == "fragment":
        fragments = f" fragment F on Note {{ {body} }}"
        body = "...F"
    elif wrap == "inline":
        body = f"... on Note {{ {body} }}"
    after = draw(st.sampled_from(["", "(after: $after)"]))
    directive = draw(st.sampled_from(["", " @include(if: $on)"]))
    variables = ["$after: String"] if after else []
    variables += ["$on: Boolean!"] if directive else []
    declared = f"({', '.join(variables)})" if variables else ""
    document = (
        f"subscription{declared} {{ events{after} {{ label note{directive} {{ {body} }} }} }}"
        + fragments
    )
    return document, any(field in PER_VIEWER_FIELDS for field in fields)


def _operation(
    document: str,
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operation, fragments


def test_the_dependent_fields_come_from_permissions_and_metadata() -> None:
    assert {("Note", "secret"), ("Note", "mine")} == DEPENDENT


@given(drawn=documents())
def test_a_selection_is_shared_unless_it_reads_a_per_viewer_field(drawn: tuple[str, bool]) -> None:
    document, per_viewer = drawn
    operation, fragments = _operation(document)
    found = sharing(GRAPHQL_SCHEMA, operation, fragments, DEPENDENT)
    assert (found is None) == per_viewer
    if found is not None:
        # The root field's own arguments choose the stream; a directive below it is read.
        assert found.variables == (("on",) if "$on" in document else ())


def test_the_served_schema_has_no_per_viewer_field_below_message_events() -> None:
    built = build_schema()
    dependent = viewer_dependent_fields(built)
    reachable = {"MessageEvent", "Message", "User", "Conversation", "Attachment"}
    assert not {pair for pair in dependent if pair[0] in reachable}
