"""The per-process document cache (schema/extensions/validation_cache.py) changes no answer:
failures are reported every time, and the rules that read variables still run on a
document the server already knows."""

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
import strawberry
from graphql import ASTValidationRule, GraphQLError, ValidationContext
from strawberry.extensions import AddValidationRules, SchemaExtension

from engagement_api.db.enums import Role
from engagement_api.schema.extensions.coded_rules import judging_the_document_only, reporting
from engagement_api.schema.extensions.max_directives import CODE as DIRECTIVES_CODE
from engagement_api.schema.extensions.max_directives import DirectiveLimit
from engagement_api.schema.extensions.validation_cache import (
    MAX_RULE_SETS,
    DocumentCache,
    _known,
)
from tests.conftest import GraphQLClient
from tests.factories import World


def _code(error: GraphQLError) -> Any:
    """The `code` extension of an error (each error here carries one)."""
    assert error.extensions is not None
    return error.extensions["code"]


NESTED_PAGES = """query Nested($n: Int) { engagements(first: $n) { edges { node {
  conversations(first: $n) { edges { node { messages(first: $n) { edges { node { id } } } } } }
} } } }"""


@pytest.fixture
async def token(world: World) -> str:
    org = await world.organization("Document cache")
    return (await world.user(org, Role.STAFF)).token


def codes(body: dict[str, object]) -> list[object]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [error.get("extensions", {}).get("code") for error in errors]


async def test_invalid_document_is_refused_with_the_same_errors_every_time(
    gql: GraphQLClient, token: str
) -> None:
    document = "query DocumentCacheInvalid { engagements { noSuchField } }"
    first = await gql.execute(document, token=token)
    second = await gql.execute(document, token=token)
    assert first["errors"]
    assert second["errors"] == first["errors"]


async def test_cost_limit_applies_to_a_known_document_with_larger_variables(
    gql: GraphQLClient, token: str
) -> None:
    small = await gql.execute(NESTED_PAGES, {"n": 2}, token=token)
    assert "errors" not in small, small
    large = await gql.execute(NESTED_PAGES, {"n": 100}, token=token)
    assert codes(large) == ["QUERY_TOO_COMPLEX"]


async def test_over_cost_document_is_refused_with_its_other_validation_errors(
    gql: GraphQLClient, token: str
) -> None:
    document = NESTED_PAGES.replace("node { id }", "node { id noSuchField }")
    assert codes(await gql.execute(document, {"n": 100}, token=token)) == [
        "QUERY_TOO_COMPLEX",
        "GRAPHQL_VALIDATION_FAILED",
    ]


async def test_known_document_answers_as_the_first_time(gql: GraphQLClient, token: str) -> None:
    document = "query DocumentCacheViewer { viewer { role } }"
    first = await gql.data(document, token=token)
    second = await gql.data(document, token=token)
    assert first == second == {"viewer": {"role": "STAFF"}}


@strawberry.type
class Level:
    @strawberry.field
    def deeper(self) -> "Level":
        return Level()

    name: str = "level"


@strawberry.type
class LevelQuery:
    @strawberry.field
    def level(self) -> Level:
        return Level()


def limited_schema(max_directives: int) -> strawberry.Schema:
    return strawberry.Schema(
        query=LevelQuery, extensions=[partial(DirectiveLimit, max_directives), DocumentCache]
    )


async def test_a_document_known_to_pass_a_lax_limit_is_still_held_to_a_strict_one() -> None:
    document = (
        "query DocumentCacheDirectives { level { deeper @skip(if: false) {"
        " deeper @include(if: true) { deeper { name } } } } }"
    )
    lax, strict = limited_schema(10), limited_schema(1)
    assert (await lax.execute(document)).errors is None
    assert (await lax.execute(document)).errors is None  # known now: its verdict is reused
    refused = await strict.execute(document)
    assert [_code(error) for error in refused.errors or []] == [DIRECTIVES_CODE]


async def test_a_known_document_that_passed_every_rule_is_not_validated_again() -> None:
    judged: list[str] = []

    class Judging(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            judged.append(context.document.loc.source.body if context.document.loc else "")

    rules = judging_the_document_only([Judging], "JUDGING", 1)
    schema = strawberry.Schema(
        query=LevelQuery, extensions=[lambda: AddValidationRules(rules), DocumentCache]
    )
    document = "query DocumentCacheOnce { level { name } }"
    for _ in range(3):
        assert (await schema.execute(document)).data == {"level": {"name": "level"}}
    assert judged == [document]


class RefusingEachRequest(SchemaExtension):
    """Adds a rule class made for this request (as the refusals of the cost limit do) when
    the variable `refuse` is true."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if (context.variables or {}).get("refuse"):
            refusal = reporting(GraphQLError("refused", extensions={"code": "REFUSED"}))
            context.validation_rules = (*context.validation_rules, refusal)
        yield


async def test_refusals_of_a_known_document_keep_its_cached_rule_sets_bounded() -> None:
    schema = strawberry.Schema(query=LevelQuery, extensions=[RefusingEachRequest, DocumentCache])
    document = (
        "query DocumentCacheRefusals($refuse: Boolean! = false)"
        " { level { name @skip(if: $refuse) } }"
    )
    assert (await schema.execute(document)).data == {"level": {"name": "level"}}
    for _ in range(3 * MAX_RULE_SETS):
        refused = await schema.execute(document, variable_values={"refuse": True})
        assert [_code(error) for error in refused.errors or []] == ["REFUSED"]
    (known,) = [
        entry for key, entry in _known.items() if isinstance(key, tuple) and key[0] == document
    ]
    assert 0 < len(known.left) <= MAX_RULE_SETS
    assert (await schema.execute(document)).data == {"level": {"name": "level"}}
