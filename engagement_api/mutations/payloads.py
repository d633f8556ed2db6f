"""What every mutation payload shares: `UserError` (business rule and validation failures
are data, not top-level errors) and the payload of a delete. An entity's own payload lives
with its mutations."""

from typing import Self

import strawberry

from engagement_api.mutations.refusals import ErrorCode, Problem

strawberry.enum(ErrorCode, name="UserErrorCode")


@strawberry.type(
    description="A business-rule or validation failure, returned as data in a mutation payload."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "attachments", "0", "url"].'
    )
    message: str
    code: ErrorCode

    @classmethod
    def from_problem(cls, problem: Problem) -> Self:
        field = list(problem.field) if problem.field is not None else None
        return cls(field=field, message=problem.message, code=problem.code)


def errors_field() -> list[UserError]:
    """A payload's `errors` field: empty unless the mutation was refused."""
    return strawberry.field(default_factory=list)  # type: ignore[no-any-return]


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = errors_field()
