"""Property tests (hypothesis) for cursors and input validation: whatever the input, the
answer is data or a clear client error (never a 5xx or a masked server error), and bad
input writes nothing. Bounded: `PROPERTY_EXAMPLES` examples per property (default 40).
"""

import base64
import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime

from engagement_api.db.enums import ProjectPhase, Role
from engagement_api.db.models import IntEnumColumn
from engagement_api.db.pagination import SortKey
from engagement_api.db.queries import CONNECTIONS as QUERY_CONNECTIONS
from engagement_api.db.queries import ConnectionSpec
from engagement_api.db.scope import symbolic_scope
from engagement_api.mutations.validation.fields import NEVER_SHOWN
from engagement_api.resolvers.cursors import encode_cursor
from tests.conftest import RunningServer
from tests.factories import World

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "40"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"
"""Unicode's White_Space characters: what input trimming removes (Python's str.strip()
also removes U+001C..U+001F, which are not White_Space), with the characters that show
nothing and change nothing of their neighbours (`NEVER_SHOWN`)."""
TRIMMED = WHITE_SPACE + NEVER_SHOWN
BLANK_LOOKING = st.text(alphabet=st.sampled_from(" \u200b\u200d\u2060\ufeff\u3164x"), max_size=8)
WITH_MODIFIERS = st.builds(
    str.__add__,
    st.sampled_from(["x", "\u2764", "\U0001f3f4", "\u845b"]),
    st.text(alphabet=st.sampled_from("\ufe0f\U000e0067\U000e007f\U000e0100 \u200b"), max_size=4),
)
"""A character, then what may follow it: modifiers of its drawing, blanks."""


# Against the server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
async def thread(owner_engine: Any) -> dict[str, str]:
    world = World(owner_engine)
    org = await world.organization("Properties")
    staff = await world.user(org, Role.STAFF)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    conversation = await world.conversation(engagement)
    for n in range(3):
        await world.message(conversation, staff, f"m{n}")
    return {"token": staff.token, "conversation": conversation.gid}


@pytest.fixture(scope="module")
async def engagement(owner_engine: Any) -> dict[str, str]:
    """An engagement with a row in each of its connections, and a thread."""
    world = World(owner_engine)
    org = await world.organization("Shaped cursors")
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    proposal = await world.proposal(org, client)
    made = await world.engagement(org, client, proposal_id=proposal.id)
    await world.project(made, ProjectPhase.BUILD)
    await world.order(org, client, engagement=made, proposal_id=proposal.id)
    conversation = await world.conversation(made)
    await world.message(conversation, staff, "m")
    return {"token": staff.token, "engagement": made.gid, "conversation": conversation.gid}


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Any:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def call(http: httpx.Client, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The response body, after checking what every response must be."""
    response = http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    codes = {error.get("extensions", {}).get("code") for error in body.get("errors") or []}
    assert codes <= {"BAD_USER_INPUT"}, body
    return body


def tampered_cursors() -> st.SearchStrategy[str]:
    """Cursor-shaped strings: base64 of arbitrary JSON lists, some with the right tag."""
    values = st.one_of(st.integers(), st.text(max_size=40), st.none(), st.booleans(), st.floats())
    tags = st.sampled_from(["messages", "engagements", ""])
    payloads = st.tuples(tags, st.lists(values, max_size=4)).map(
        lambda tagged: json.dumps([tagged[0], *tagged[1]]).encode()
    )
    return payloads.map(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="))


THREAD_PAGE = """query($id: ID!, $before: String, $after: String) { conversation(id: $id) {
  older: messages(last: 2, before: $before) { edges { cursor } }
  newer: messages(first: 2, after: $after) { edges { cursor } } } }"""


@BOUNDED
@given(cursor=st.one_of(st.text(max_size=200), tampered_cursors()))
def test_any_cursor_is_answered_with_a_page_or_bad_user_input(
    client: httpx.Client, thread: dict[str, str], cursor: str
) -> None:
    variables = {"id": thread["conversation"], "before": cursor, "after": cursor}
    call(client, thread["token"], THREAD_PAGE, variables)


PARENTS = {"projects": "engagement", "conversations": "engagement", "orders": "engagement"}
PARENTS["messages"] = "conversation"
BACKWARDS = {"messages"}
"""The connections that page backwards too (`last`, `before`)."""


def paged_from(connection: str) -> str:
    """A document paging `connection` on from the cursor `$after` (and back from it, where
    the connection pages backwards), under its parent (`$parent`) if it has one."""
    selection = f"{connection}(first: 2, after: $cursor) {{ edges {{ cursor }} }}"
    if connection in BACKWARDS:
        selection += f" older: {connection}(last: 2, before: $cursor) {{ edges {{ cursor }} }}"
    parent = PARENTS.get(connection)
    if parent is None:
        return f"query($cursor: String) {{ {selection} }}"
    return f"query($parent: ID!, $cursor: String) {{ {parent}(id: $parent) {{ {selection} }} }}"


offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
times = st.one_of(
    st.datetimes(timezones=offsets),
    st.sampled_from([datetime.min, datetime.max]).flatmap(
        lambda edge: offsets.map(lambda offset: edge.replace(tzinfo=offset))
    ),
).map(datetime.isoformat)


def _part(key: SortKey) -> st.SearchStrategy[Any]:
    """Values of one part of a sort key as a client may write them: of its kind, at the
    edges of what the kind can hold, and of another kind."""
    kind = key.column.type
    integers = st.integers(-(2**63), 2**63 - 1)  # what a cursor's JSON can hold
    own: st.SearchStrategy[Any] = st.uuids().map(str)
    if isinstance(kind, IntEnumColumn):
        own = integers
    elif isinstance(kind, DateTime):
        own = times
    return st.one_of(own, own, st.none(), integers, times)


def shaped_cursors(spec: ConnectionSpec) -> st.SearchStrategy[str]:
    """Cursors of the connection's own shape: its tag, one value of each part's kind."""
    keys = spec.ordering(symbolic_scope(Role.STAFF)).keys
    parts = st.tuples(*(_part(key) for key in keys))
    return parts.map(lambda values: encode_cursor(spec.name, values))


@BOUNDED
@given(data=st.data())
@pytest.mark.parametrize("spec", QUERY_CONNECTIONS, ids=lambda spec: spec.name)
def test_a_cursor_of_any_connections_shape_is_a_page_or_bad_user_input(
    client: httpx.Client, engagement: dict[str, str], spec: ConnectionSpec, data: st.DataObject
) -> None:
    cursor = data.draw(shaped_cursors(spec))
    variables = {"cursor": cursor}
    parent = PARENTS.get(spec.name)
    if parent is not None:
        variables["parent"] = engagement[parent]
    call(client, engagement["token"], paged_from(spec.name), variables)


POST = """mutation($input: PostMessageInput!) { postMessage(input: $input) {
  message { content attachments { name url size } } errors { field code } } }"""
COUNT = "query($id: ID!) { conversation(id: $id) { messages { totalCount } } }"

attachments = st.fixed_dictionaries(
    {
        "name": st.one_of(st.text(max_size=300), st.just("nul\x00name")),
        "url": st.one_of(
            st.text(max_size=60),
            st.builds("https://example.test/{}".format, st.text(max_size=40)),
            st.builds(
                "https://{}:{}/".format,
                st.sampled_from(["x.test", "[::1]", "[zz]", ""]),
                st.one_of(
                    st.sampled_from([-1, 0, 1, 443, 65535, 65536, 99999]), st.text(max_size=4)
                ),
            ),
        ),
        "size": st.integers(-5, 2**31 - 1),
    }
)


def _a_place(url: str) -> bool:
    """An http(s) URL with a host, and a port in range when it names one."""
    try:
        parts = urlsplit(url)
        port = parts.port
        return url.startswith("http") and bool(parts.hostname) and (port is None or port > 0)
    except ValueError:
        return False


def _count(http: httpx.Client, thread: dict[str, str]) -> int:
    body = call(http, thread["token"], COUNT, {"id": thread["conversation"]})
    return int(body["data"]["conversation"]["messages"]["totalCount"])


MODIFIERS = "\ufe0f\ufe0e\U000e0100\U000e0067\U000e007f\u180b\u034f"
"""Characters that change how the one before them is drawn (emoji and text presentation,
a kanji variant, emoji tags, a Mongolian variant, the grapheme joiner): kept at an end."""


def test_the_characters_trimmed_are_the_invisible_ones_and_no_modifier() -> None:
    assert {"\u200b", "\u200d", "\u2060", "\ufeff", "\u3164"} <= set(NEVER_SHOWN)
    assert not set(NEVER_SHOWN) & set(WHITE_SPACE + MODIFIERS + "xX0 ")


@BOUNDED
@given(
    content=st.one_of(
        st.text(max_size=300),
        BLANK_LOOKING,
        WITH_MODIFIERS,
        st.sampled_from(["a\x00b", " x" * 10_001]),
    ),
    files=st.none() | st.lists(attachments, max_size=3),
)
def test_any_message_input_is_posted_as_validated_or_refused_with_nothing_written(
    client: httpx.Client, thread: dict[str, str], content: str, files: list[Any] | None
) -> None:
    before = _count(client, thread)
    message_input: dict[str, Any] = {"conversationId": thread["conversation"], "content": content}
    if files is not None:
        message_input["attachments"] = files
    body = call(client, thread["token"], POST, {"input": message_input})
    payload = body["data"]["postMessage"] if body.get("data") else None
    if payload is not None and not payload["errors"]:
        assert payload["message"]["content"] == content.strip(TRIMMED) != ""
        assert all(file["size"] >= 0 and _a_place(file["url"]) for file in files or [])
        assert _count(client, thread) == before + 1
    else:
        codes = {error["code"] for error in payload["errors"]} if payload else {"BAD_USER_INPUT"}
        assert codes == {"INVALID"} or payload is None
        assert _count(client, thread) == before


INT_LITERALS = st.builds(
    lambda sign, first, rest: f"{sign}{first}{rest}",
    st.sampled_from(["", "-"]),
    st.sampled_from("123456789"),
    st.one_of(
        st.text(alphabet="0123456789", max_size=12),
        st.text(alphabet="0123456789", min_size=4290, max_size=13_500),
    ),
) | st.just("0")
"""GraphQL's integer literals, up to what the query length allows: Python's `int` refuses
a string of more than 4,300 digits."""
LITERAL_PLACES = {
    "argument": "{{ engagements(first: {n}) {{ totalCount }} }}",
    "variable default": "query($n: Int = {n}) {{ engagements(first: $n) {{ totalCount }} }}",
    "input field": (
        'mutation {{ postMessage(input: {{conversationId: "{conversation}", content: "x",'
        ' attachments: [{{name: "a", url: "https://files.test/a", size: {n}}}]}})'
        " {{ message {{ id }} errors {{ code }} }} }}"
    ),
}


def _is_int32(literal: str) -> bool:
    return len(literal.lstrip("-")) <= 10 and -(2**31) <= int(literal) < 2**31


@BOUNDED
@given(literal=INT_LITERALS, place=st.sampled_from(sorted(LITERAL_PLACES)))
def test_any_integer_literal_is_taken_or_refused_as_the_documents_mistake(
    client: httpx.Client, thread: dict[str, str], literal: str, place: str
) -> None:
    before = _count(client, thread)
    query = LITERAL_PLACES[place].format(n=literal, conversation=thread["conversation"])
    response = client.post(
        "/graphql", json={"query": query}, headers={"authorization": f"Bearer {thread['token']}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    codes = [error["extensions"]["code"] for error in body.get("errors") or []]
    if not _is_int32(literal):
        assert codes == ["GRAPHQL_VALIDATION_FAILED"], body
        assert body["data"] is None
        assert _count(client, thread) == before
    elif place == "input field":
        assert codes == [], body
        assert body["data"]["postMessage"] is not None
    else:
        in_range = 0 <= int(literal) <= 100
        assert codes == ([] if in_range else ["BAD_USER_INPUT"]), body


NOT_UTF8 = st.binary(min_size=1, max_size=4).filter(lambda raw: not _is_utf8(raw))


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


@BOUNDED
@given(text=st.text(max_size=20), raw=NOT_UTF8, at=st.integers(min_value=0))
def test_a_body_that_is_not_utf8_is_refused_naming_the_first_bad_byte(
    client: httpx.Client, text: str, raw: bytes, at: int
) -> None:
    """Bytes that are no UTF-8 anywhere in a JSON body: MALFORMED_JSON naming the position
    of the first (Python's decoder is the reference), not a surrogate problem."""
    body = json.dumps({"query": "{ __typename }", "variables": {"v": text}}).encode()
    at %= len(body) + 1
    body = body[:at] + raw + body[at:]
    try:
        body.decode()
    except UnicodeDecodeError as bad:
        first = bad.start
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "MALFORMED_JSON"
    assert f": byte {first} is not UTF-8 (" in error["message"]
    assert "surrogate" not in error["message"]
