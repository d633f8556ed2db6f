"""Global IDs: one object has exactly one id. Any other text, however a lenient decoder
would read it (another case or spelling of the uuid, characters outside the alphabet,
padding), names nothing: `null` for reads, `NOT_FOUND` for mutations."""

import base64
import uuid

from hypothesis import given
from hypothesis import strategies as st

from engagement_api.db.enums import Role
from engagement_api.schema.ids import from_global_id, parse_global_id, to_global_id
from tests.conftest import GraphQLClient
from tests.factories import World

TYPE_NAMES = st.sampled_from(["Engagement", "Project", "Conversation", "Message", "User"])


def _spellings(type_name: str, row_id: uuid.UUID) -> list[str]:
    """The same object written as lenient decoders would also read it."""
    canonical = to_global_id(type_name, row_id)
    return [
        base64.urlsafe_b64encode(f"{type_name}:{text}".encode()).decode().rstrip("=")
        for text in (str(row_id).upper(), row_id.hex, f"{{{row_id}}}", f"urn:uuid:{row_id}")
    ] + [canonical + "==", canonical[:4] + "." + canonical[4:], f" {canonical}"]


@given(type_name=TYPE_NAMES, row_id=st.uuids())
def test_an_id_names_its_object_and_no_other_spelling_does(
    type_name: str, row_id: uuid.UUID
) -> None:
    assert from_global_id(to_global_id(type_name, row_id)) == (type_name, row_id)
    for spelling in _spellings(type_name, row_id):
        assert from_global_id(spelling) is None, spelling


@st.composite
def edited_ids(draw: st.DrawFn) -> str:
    """A valid id with characters inserted (four at a time: the padding stays right),
    removed, or changed in case, or with padding added."""
    text = to_global_id(draw(TYPE_NAMES), draw(st.uuids()))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "remove", "case", "pad"]))
        if edit == "insert":
            text = text[:at] + draw(st.characters(codec="ascii")) * 4 + text[at:]
        elif edit == "pad":
            text += "=" * draw(st.integers(1, 3))
        elif edit == "remove" and at < len(text):
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + text[at:].swapcase()
    return text


@given(st.one_of(st.text(max_size=80), edited_ids()))
def test_any_text_names_nothing_or_is_an_id_exactly(text: str) -> None:
    decoded = from_global_id(text)
    assert decoded is None or to_global_id(*decoded) == text


async def test_another_spelling_of_a_visible_objects_id_reads_as_null(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org)
    engagement = await world.engagement(org, await world.user(org, Role.CLIENT))
    row_id = parse_global_id(engagement.gid, "Engagement")
    assert row_id is not None
    ids = [engagement.gid, *_spellings("Engagement", row_id)]
    data = await gql.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, token=staff.token
    )
    assert data["nodes"] == [{"id": engagement.gid}] + [None] * (len(ids) - 1)
