"""graphql-core's executor with a short path for fields that only read an attribute.

A dashboard executes about 12,000 fields, and nearly all of them only read an attribute of a
ready object: `Message.content`, `Edge.node`, `Connection.edges`. graphql-core gives each the
full treatment: a resolve-info object, argument handling, the resolver call, and
`complete_value`'s type dispatch with awaitable checks at every level. For a field whose
resolver only reads an attribute (`plain_fields.attribute_of`) and takes no arguments, this
executor follows a plan worked out once per request and selection (`field_plans.py`):

- a scalar or enum: read the attribute and coerce it; anything unusual (a null for a
  non-null field, a value the scalar refuses) goes the general way, which reports it exactly
  as before;
- an object, or a list of objects: read the attribute and execute the selection on it (or
  on each item), with graphql-core's own error handling (`handle_field_error`, the same
  paths and messages) around it.

Fields with resolvers of their own, arguments, abstract types, or a resolve hook of an
extension run as graphql-core runs them.
"""

from collections.abc import Awaitable, Iterable
from typing import Any

from graphql import GraphQLObjectType, GraphQLOutputType, Undefined, UndefinedType
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import invalid_return_type_error
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from engagement_api.schema.field_plans import FieldPlan, plan_field


class AttributeReadingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Completes attribute fields by their plan; every other field as graphql-core does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, tuple[FieldDetailsList, FieldPlan | None]] = {}
        middleware = self.middleware_manager
        self._planning = middleware is None or not middleware.middlewares

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        plan = self._plan(parent_type, field_details_list)
        if plan is not None:
            value = _read(source, plan.attribute)
            if value is None:
                if not plan.non_null:
                    return None
            elif value is not Undefined:
                if plan.coerce is not None:
                    coerced = _coerced(plan, value)
                    if coerced is not None:
                        return coerced
                else:
                    return self._complete_objects(plan, field_details_list, path, value)
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _plan(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> FieldPlan | None:
        """The field's plan, worked out once per request and selection: a list of objects
        completes the same selection for every item."""
        if not self._planning:
            return None
        cached = self._plans.get(id(field_details_list))
        if cached is None:
            plan = plan_field(self.schema, parent_type, [item.node for item in field_details_list])
            cached = self._plans[id(field_details_list)] = (field_details_list, plan)
        return cached[1]

    def _complete_objects(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> AwaitableOrValue[Any]:
        try:
            if plan.item_non_null is None:
                completed = self._complete_object(plan, field_details_list, path, value)
            else:
                completed = self._complete_list(plan, field_details_list, path, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._settled(completed, plan.return_type, field_details_list, path)
        return completed

    def _complete_object(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> AwaitableOrValue[Any]:
        object_type = plan.object_type
        if not plan.is_type_of(value):
            raise invalid_return_type_error(object_type, value, field_details_list)
        return self.collect_and_execute_subfields(
            object_type, field_details_list, path, value, None
        )

    def _complete_list(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, path: Path, items: Any
    ) -> AwaitableOrValue[list[Any]]:
        if not isinstance(items, Iterable) or isinstance(items, str | bytes):
            raise TypeError(
                f"Expected Iterable, but did not find one for field '{plan.field_name}'."
            )
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                completed.append(
                    self._complete_item(plan, field_details_list, path.add_key(index), item)
                )
                if self.is_awaitable(completed[-1]):
                    awaitable_indices.append(index)
        except Exception:
            self.settle_in_background([completed[index] for index in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed
        return self._gathered(completed, awaitable_indices)

    def _complete_item(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, path: Path, item: Any
    ) -> AwaitableOrValue[Any]:
        try:
            if item is None:
                if plan.item_non_null:
                    raise TypeError(f"Cannot return null for non-nullable field {plan.field_name}.")
                return None
            completed = self._complete_object(plan, field_details_list, path, item)
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.item_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._settled(completed, plan.item_type, field_details_list, path)
        return completed

    async def _settled(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    @staticmethod
    async def _gathered(completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
        awaited = await gather_with_cancel(*(completed[index] for index in awaitable_indices))
        for index, result in zip(awaitable_indices, awaited, strict=True):
            completed[index] = result
        return completed


def _read(source: Any, attribute: str) -> Any:
    """The attribute's value, or Undefined when the general way must report what it raised."""
    try:
        return getattr(source, attribute)
    except Exception:  # the general way reports it, located
        return Undefined


def _coerced(plan: FieldPlan, value: Any) -> Any:
    """The scalar or enum output of `value`, or None when the general way must report it."""
    try:
        coerced = plan.coerce(value)  # type: ignore[misc]
    except Exception:  # the general way reports it, located
        return None
    return None if coerced is Undefined else coerced
