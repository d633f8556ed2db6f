"""A viewer whose role may not run a mutation, over every role-restricted mutation, every
such viewer and every kind of id in each id field of the input.

Domain rules §2: something the viewer may not see is answered exactly as if it did not
exist, and a write on something it may see but not change is FORBIDDEN. The reference is
the viewer's own reads: the answer is NOT_FOUND on the first id field whose id `node`
does not return as an object of that field's type, FORBIDDEN when it returns them all.
Nothing is written either way.
"""

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import ProjectStatus, Role
from engagement_api.schema.ids import to_global_id
from tests.conftest import GraphQLClient
from tests.factories import Made, World
from tests.mutations import error_fields, mutate


@dataclass(frozen=True)
class Restricted:
    name: str
    ids: tuple[tuple[str, str], ...]
    """(input field, node type) of each id field, in the input's order."""
    rest: dict[str, Any]
    denied: tuple[Role, ...]


STAFF_ONLY = (Role.CLIENT,)
RESTRICTED = (
    Restricted(
        "createEngagement", (("clientId", "User"), ("proposalId", "Proposal")), {}, STAFF_ONLY
    ),
    Restricted("updateEngagement", (("id", "Engagement"),), {"name": "x"}, STAFF_ONLY),
    Restricted("setEngagementStatus", (("id", "Engagement"),), {"status": "CLOSED"}, STAFF_ONLY),
    Restricted("deleteEngagement", (("id", "Engagement"),), {}, (Role.CLIENT, Role.STAFF)),
    Restricted(
        "createProject",
        (("engagementId", "Engagement"), ("serviceId", "Service")),
        {"name": "x"},
        STAFF_ONLY,
    ),
    Restricted("updateProject", (("id", "Project"), ("serviceId", "Service")), {}, STAFF_ONLY),
    Restricted("setProjectStatus", (("id", "Project"),), {"status": "PAUSED"}, STAFF_ONLY),
    Restricted("setProjectPhase", (("id", "Project"),), {"phase": "BUILD"}, STAFF_ONLY),
    Restricted("deleteProject", (("id", "Project"),), {}, STAFF_ONLY),
    Restricted(
        "setConversationStatus", (("id", "Conversation"),), {"status": "CLOSED"}, STAFF_ONLY
    ),
    Restricted(  # an internal note: staff only
        "postMessage",
        (("conversationId", "Conversation"),),
        {"content": "x", "isInternal": True},
        STAFF_ONLY,
    ),
)

KINDS = ("own", "hidden", "foreign", "deleted", "unknown", "other type", "malformed")
"""Each id field takes one id of each kind: the viewer's own (its engagement's rows), its
organization's but another client's, another organization's, soft-deleted, well formed
but of no row, of a row of another type the viewer sees, and not a global ID at all."""

TABLES = ("engagements", "projects", "conversations", "proposals", "orders", "services")


async def _rows(world: World, org: Made, client: Made) -> dict[str, Made]:
    """One row of each node type the mutations name, reached through `client`."""
    engagement = await world.engagement(org, client)
    return {
        "User": client,
        "Engagement": engagement,
        "Project": await world.project(engagement),
        "Conversation": await world.conversation(engagement),
        "Proposal": await world.proposal(org, client),
        "Service": await world.service(org),
    }


async def _digest(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return [
            await connection.scalar(
                text(f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM {t} t")
            )
            for t in TABLES
        ]


async def _visible(gql: GraphQLClient, token: str, global_id: str, type_name: str) -> bool:
    """The reference: whether the viewer reads this id as an object of `type_name`."""
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { __typename } }", {"id": global_id}, token=token
    )
    return data["node"] is not None and data["node"]["__typename"] == type_name


async def test_a_refused_role_is_not_found_for_what_the_viewer_cannot_see_and_forbidden_otherwise(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    org, elsewhere = await world.organization(), await world.organization()
    viewers = {
        Role.CLIENT: await world.user(org, Role.CLIENT),
        Role.STAFF: await world.user(org, Role.STAFF),
    }
    own = await _rows(world, org, viewers[Role.CLIENT])
    hidden = await _rows(world, org, await world.user(org, Role.CLIENT))
    foreign = await _rows(world, elsewhere, await world.user(elsewhere, Role.CLIENT))
    deleted_project = await world.project(
        own["Engagement"], status=ProjectStatus.ACTIVE, deleted_at=text("now()")
    )

    def id_of(kind: str, type_name: str) -> str:
        if kind == "malformed":
            return "not-a-global-id"
        if kind == "unknown":
            return to_global_id(type_name, uuid.uuid4())
        if kind == "other type":
            return own["Conversation" if type_name != "Conversation" else "Project"].gid
        if kind == "deleted":  # only projects are soft-deleted rows; others: none left
            return deleted_project.gid if type_name == "Project" else id_of("unknown", type_name)
        return {"own": own, "hidden": hidden, "foreign": foreign}[kind][type_name].gid

    before = await _digest(owner_engine)
    for mutation in RESTRICTED:
        for role in mutation.denied:
            token = viewers[role].token
            for kinds in itertools.product(KINDS, repeat=len(mutation.ids)):
                ids = {
                    field: id_of(kind, type_name)
                    for (field, type_name), kind in zip(mutation.ids, kinds, strict=True)
                }
                payload = await mutate(gql, mutation.name, {**ids, **mutation.rest}, token=token)
                expected: tuple[list[str], list[list[str] | None]] = ["FORBIDDEN"], [None]
                for field, type_name in mutation.ids:
                    if not await _visible(gql, token, ids[field], type_name):
                        expected = ["NOT_FOUND"], [["input", field]]
                        break
                answer = [e["code"] for e in payload["errors"]], error_fields(payload)
                assert answer == expected, (mutation.name, role, kinds)
    assert await _digest(owner_engine) == before
