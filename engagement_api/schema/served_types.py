"""The served schema as graphql-core types, reached through public APIs only.

Strawberry keeps the graphql-core schema it builds to itself. What needs the types outside
an execution (the query cost before validation, the live feed's sharing rules when the
schema is built) reads them here: graphql-core's `build_schema` over Strawberry's public
SDL (`Schema.as_str`), made once per schema. Names, fields, arguments, their types and
defaults are the served ones; resolvers are not there (nothing executes on these types).
"""

import weakref

import strawberry
from graphql import GraphQLSchema, build_schema

_built: "weakref.WeakKeyDictionary[strawberry.Schema, GraphQLSchema]" = weakref.WeakKeyDictionary()


def served_types(schema: strawberry.Schema) -> GraphQLSchema:
    """`schema`'s types as graphql-core's (built on first use, then kept with the schema)."""
    built = _built.get(schema)
    if built is None:
        built = _built[schema] = build_schema(schema.as_str())
    return built
