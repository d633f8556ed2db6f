"""Input validation (domain rules §4): `validate(Model, input)` or a `Refusal` whose problems
point at the input fields at fault.

Each mutation input has one `InputModel`, declared beside its mutation
(`mutations/<entity>.py`): everything the input itself can get wrong. Field names
are the contract's (camelCase aliases), so an error's location is the `UserError.field` path
under "input". Rules that need the database (visibility, state, roles) live in the
mutations. Reusable field types are in `fields.py`.
"""

import dataclasses
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails
from strawberry import UNSET

from engagement_api.mutations.refusals import INPUT, ErrorCode, Problem, Refusal
from engagement_api.mutations.validation.fields import NOT_FOUND


class InputModel(BaseModel):
    """The base of every mutation input's validation model."""

    model_config = ConfigDict(alias_generator=to_camel, frozen=True)

    def given(self, name: str) -> bool:
        """Whether the client sent this field (absent leaves a value unchanged)."""
        return name in self.model_fields_set


ModelT = TypeVar("ModelT", bound=InputModel)


def validate(model: type[ModelT], value: Any) -> ModelT:
    """`value` (a Strawberry input object) checked by `model`; `Refusal` listing every problem."""
    try:
        return model.model_validate(arguments(value))
    except ValidationError as error:
        raise Refusal([_problem(detail) for detail in error.errors()]) from None


def arguments(value: Any) -> Any:
    """A Strawberry input as the client sent it: camelCase keys, absent fields left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            to_camel(field.name): arguments(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if getattr(value, field.name) is not UNSET
        }
    if isinstance(value, list):
        return [arguments(item) for item in value]
    return value


def _problem(detail: ErrorDetails) -> Problem:
    path = (*INPUT, *(str(part) for part in detail["loc"]))
    if detail["type"] == NOT_FOUND:
        return Problem(path, detail["msg"], ErrorCode.NOT_FOUND)
    return Problem(path, _message(detail), ErrorCode.INVALID)


_MESSAGES = {
    "string_too_short": "Must not be blank.",
    "string_too_long": "Must be at most {max_length} characters.",
    "too_long": "At most {max_length} items are allowed.",
    "greater_than_equal": "Must be at least {ge}.",
    "less_than_equal": "Must be at most {le}.",
}


def _message(detail: ErrorDetails) -> str:
    if detail.get("input", ...) is None:
        return "Must not be null."
    template = _MESSAGES.get(detail["type"])
    if template is not None:
        return template.format(**detail.get("ctx", {}))
    message = detail["msg"]
    return message if message.endswith(".") else f"{message}."
