"""Amounts are BIGINT in the database and `Int` (32 bits) in the contract: the database
keeps them within what the API can serve, so no row can fail a list of them."""

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from engagement_api.db.enums import Role
from tests.conftest import GraphQLClient
from tests.factories import World

LARGEST = 2**31 - 1
AMOUNTS = """query($proposal: ID!, $order: ID!) {
  proposal: node(id: $proposal) { ... on Proposal { amountCents } }
  order: node(id: $order) { ... on Order { amountCents } } }"""


@pytest.mark.parametrize("amount", [LARGEST + 1, -LARGEST - 2, 5_000_000_000])
@pytest.mark.parametrize("kind", ["proposal", "order"])
async def test_an_amount_beyond_graphql_int_is_refused_where_it_is_written(
    world: World, kind: str, amount: int
) -> None:
    org = await world.organization()
    client = await world.user(org, Role.CLIENT)
    make: Any = world.proposal if kind == "proposal" else world.order
    with pytest.raises(IntegrityError, match="amount_cents_int"):
        await make(org, client, amount_cents=amount)


async def test_the_largest_and_smallest_amounts_are_served_as_written(
    world: World, gql: GraphQLClient
) -> None:
    org = await world.organization()
    staff = await world.user(org, Role.STAFF)
    client = await world.user(org, Role.CLIENT)
    for amount in (LARGEST, -LARGEST - 1):
        proposal = await world.proposal(org, client, amount_cents=amount)
        order = await world.order(org, client, amount_cents=amount)
        variables = {"proposal": proposal.gid, "order": order.gid}
        data = await gql.data(AMOUNTS, variables, token=staff.token)
        assert data == {"proposal": {"amountCents": amount}, "order": {"amountCents": amount}}
