"""Helpers of the mutation tests: call one mutation through the API, read rows back as the
database owner (the source of truth, bypassing the API and its visibility rules)."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import Role
from engagement_api.db.models import Base
from tests.conftest import GraphQLClient
from tests.factories import Made, World

ERRORS = "errors { field message code }"
DELETES = {"deleteEngagement", "deleteProject", "deleteMessage"}
PROJECT_AND_POST = """mutation Two($project: CreateProjectInput!, $post: PostMessageInput!) {
  createProject(input: $project) { project { id } errors { code } }
  postMessage(input: $post) { message { id } errors { code } }
}"""
"""Two writes in one document, each on its own field."""


def input_type(name: str) -> str:
    return "DeleteInput" if name in DELETES else f"{name[0].upper()}{name[1:]}Input"


async def mutate(
    gql: GraphQLClient, name: str, input: dict[str, Any], *, token: str, select: str = ""
) -> dict[str, Any]:
    """The payload of mutation `name` (which must not fail with a top-level error)."""
    document = (
        f"mutation M($input: {input_type(name)}!) "
        f"{{ {name}(input: $input) {{ {select} {ERRORS} }} }}"
    )
    data = await gql.data(document, {"input": input}, token=token)
    payload: dict[str, Any] = data[name]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def error_fields(payload: dict[str, Any]) -> list[list[str] | None]:
    return [error["field"] for error in payload["errors"]]


async def row_of(engine: AsyncEngine, model: type[Base], row_id: uuid.UUID) -> Row[Any] | None:
    table = model.__table__
    async with engine.connect() as connection:
        result = await connection.execute(select(table).where(table.c.id == row_id))
        return result.first()


async def rows_where(engine: AsyncEngine, model: type[Base], *conditions: Any) -> list[Row[Any]]:
    table = model.__table__
    async with engine.connect() as connection:
        result = await connection.execute(select(table).where(*conditions))
        return list(result.all())


async def count_where(engine: AsyncEngine, model: type[Base], *conditions: Any) -> int:
    async with engine.connect() as connection:
        statement = select(func.count()).select_from(model).where(*conditions)
        return int((await connection.execute(statement)).scalar_one())


@dataclass(frozen=True)
class Cast:
    """One organization's people and an ACTIVE engagement of `client`."""

    org: Made
    admin: Made
    staff: Made
    client: Made
    other_client: Made
    engagement: Made


async def cast(world: World) -> Cast:
    org = await world.organization()
    client = await world.user(org, Role.CLIENT)
    return Cast(
        org=org,
        admin=await world.user(org, Role.ADMIN),
        staff=await world.user(org, Role.STAFF),
        client=client,
        other_client=await world.user(org, Role.CLIENT),
        engagement=await world.engagement(org, client, name="Work"),
    )


async def stored(engine: AsyncEngine, model: type[Base], row_id: uuid.UUID) -> Row[Any]:
    """The row, which must exist."""
    row = await row_of(engine, model, row_id)
    assert row is not None, f"no {model.__tablename__} row {row_id}"
    return row
