"""A mutation lives in one module: each root mutation field, its input type, the input's
validation model and its payload are declared together in its entity's module under
`mutations/` (the delete input and payload, shared by several entities, in the
shared modules); `schema/mutation.py` only combines the entities' fields."""

import dataclasses
import inspect
import sys
from types import ModuleType

import pytest
from pydantic.alias_generators import to_camel
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from engagement_api.mutations import fields, payloads
from engagement_api.mutations.validation import InputModel
from engagement_api.schema.schema import schema

PACKAGE = "engagement_api.mutations."
SHARED = {fields.__name__, payloads.__name__}


def _root_fields() -> list[StrawberryField]:
    definition = schema.get_type_by_name("Mutation")
    assert isinstance(definition, StrawberryObjectDefinition)
    return definition.fields


def _home(field: StrawberryField) -> ModuleType:
    assert field.base_resolver is not None, f"{field.name} has no resolver"
    return sys.modules[field.base_resolver.wrapped_func.__module__]


def _declared_in(cls: object, module: ModuleType) -> bool:
    return getattr(cls, "__module__", None) in {module.__name__, *SHARED}


def _model_shapes(module: ModuleType) -> set[frozenset[str]]:
    """The contract field names each validation model of `module` reads."""
    models = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, InputModel)
        and value is not InputModel
        and value.__module__ == module.__name__
    ]
    return {frozenset(info.alias or name for name, info in m.model_fields.items()) for m in models}


FIELDS = _root_fields()


def test_the_schema_has_mutations() -> None:
    assert len(FIELDS) >= 15


@pytest.mark.parametrize("field", FIELDS, ids=[field.name for field in FIELDS])
def test_a_root_mutation_field_is_declared_with_its_input_model_and_payload(
    field: StrawberryField,
) -> None:
    module = _home(field)
    assert module.__name__.startswith(PACKAGE), f"{field.name} is declared in {module.__name__}"
    assert module.__name__ not in SHARED
    (argument,) = field.arguments
    input_type = argument.type
    assert _declared_in(input_type, module), f"{field.name}'s input is not in {module.__name__}"
    assert _declared_in(field.type, module), f"{field.name}'s payload is not in {module.__name__}"
    assert dataclasses.is_dataclass(input_type)
    shape = frozenset(to_camel(item.name) for item in dataclasses.fields(input_type))
    assert shape in _model_shapes(module), (
        f"{module.__name__} holds no validation model for {field.name}'s input {sorted(shape)}"
    )
