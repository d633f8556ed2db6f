"""The served schema: the root types, the types reachable only through interfaces, extensions."""

from collections.abc import Callable, Sequence

import strawberry
from strawberry.extensions import SchemaExtension

from engagement_api.schema.mutation import Mutation
from engagement_api.schema.query import Query
from engagement_api.schema.subscription import Subscription
from engagement_api.schema.types.message import Message
from engagement_api.schema.types.organization import Organization
from engagement_api.schema.types.project import Project
from engagement_api.schema.types.service import Service
from engagement_api.schema.types.user import User

NODE_TYPES = [Message, Organization, Project, Service, User]


def build_schema(
    extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
    )


schema = build_schema()
