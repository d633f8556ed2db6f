"""graphql-core's executor with a short path for fields that only read an attribute.

A dashboard executes about 12,000 fields, and nearly all of them only read an attribute of a
ready object: `Message.content`, `Edge.node`, `Connection.edges`. graphql-core gives each the
full treatment: a resolve-info object, argument handling, the resolver call, and
`complete_value`'s type dispatch with awaitable checks at every level. For a field whose
resolver only reads an attribute (`plain_fields.attribute_of`) and takes no arguments, this
executor follows a plan (`field_plans.py`) made once per operation and selection and kept
with the operation's syntax tree, which the document cache hands back for a known document:

- a scalar or enum: read the attribute and coerce it; anything unusual (a null for a
  non-null field, a value the scalar refuses) goes the general way, which reports it exactly
  as before;
- an object, or a list of objects: read the attribute and execute the selection on it (or
  on each item), with graphql-core's own error handling (`handle_field_error`, the same
  paths and messages) around it;
- an object returned by a `@direct` resolver without arguments (`Message.sender`): call it
  with its resolve info and complete what it returns (or awaits) the same way.

Fields with resolvers of their own, arguments, directives or abstract types run as
graphql-core runs them; so does every field when an extension hooks into each resolver, or
when the schema offers `@defer`/`@stream` (incremental delivery is not planned for).
"""

from collections.abc import Awaitable, Iterable
from typing import Any, NamedTuple

from graphql import (
    BREAK,
    FieldNode,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    Undefined,
    UndefinedType,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
)
from graphql.execution.executor import invalid_return_type_error
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from engagement_api.fastpath.field_plans import FieldPlan, plan_field

MAX_PLANNED_OPERATIONS = 1024
"""Operations whose plans are kept per process (each entry holds its syntax tree, so the
ids of its nodes, which key the plans, are never reused while it lives)."""


class _Planned(NamedTuple):
    """What is kept per operation: its syntax tree (holding the ids that key the rest), the
    plans of its selections, and its collected sub-selections when they cannot depend on
    the variables (None when the document has a directive: `@skip(if: $x)` may)."""

    operation: OperationDefinitionNode
    plans: dict[tuple[Any, ...], list[FieldPlan | None]]
    subfields: dict[tuple[Any, ...], CollectedFields] | None


_operation_plans: dict[int, _Planned] = {}

_new_path = tuple.__new__
"""Builds a `Path` (a named tuple) from its fields without the generated Python `__new__`
that `Path(...)` and `Path.add_key` run (4,000 paths per dashboard)."""


class Selected(NamedTuple):
    response_name: str
    field_details_list: FieldDetailsList
    plan: FieldPlan | None


class AttributeReadingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Completes attribute fields by their plan; every other field as graphql-core does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._selections: dict[int, tuple[GroupedFieldSet, list[Selected]]] = {}
        self._subfield_sets: dict[int, tuple[FieldDetailsList, GroupedFieldSet | None]] = {}
        middleware = self.middleware_manager
        resolve_hooks = middleware is not None and bool(middleware.middlewares)
        incremental = self.schema.get_directive("defer") is not None
        self._planning = not resolve_hooks and not incremental
        self._planned: _Planned | None = None

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        """graphql-core's, remembered per operation rather than per request when the document
        has no directive: the fields a selection collects then depend on the document alone
        (a thread page collects seven selections per request)."""
        shared = self._operation().subfields if self._planning else None
        if shared is None:
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type, *map(id, _nodes(field_details_list)))
        collected = shared.get(key)
        if collected is None:
            collected = shared[key] = super().collect_subfields(return_type, field_details_list)
        return collected

    def _operation(self) -> _Planned:
        """This operation's entry in the per-process store (made on its first execution)."""
        planned = self._planned
        if planned is None:
            planned = _operation_plans.get(id(self.operation))
            if planned is None or planned.operation is not self.operation:
                if len(_operation_plans) >= MAX_PLANNED_OPERATIONS:
                    _operation_plans.clear()
                shared: dict[tuple[Any, ...], CollectedFields] | None = {}
                if _has_directives(self.operation, self.fragments):
                    shared = None
                planned = _Planned(self.operation, {}, shared)
                _operation_plans[id(self.operation)] = planned
            self._planned = planned
        return planned

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if not self._planning:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        try:
            for name, field_details_list, plan in self._selection(parent_type, grouped_field_set):
                if plan is not None and plan.coerce is not None:
                    try:  # a leaf, inline: no path, no info, no completion dispatch
                        value = getattr(source_value, plan.attribute)
                        if value is None:
                            if not plan.non_null:
                                results[name] = None
                                continue
                        else:
                            coerced = plan.coerce(value)
                            if coerced is not None and coerced is not Undefined:
                                results[name] = coerced
                                continue
                    except Exception:  # the general way below reports it, located
                        pass
                field_path = _new_path(Path, (path, name, parent_type.name))
                if plan is not None and plan.coerce is None:
                    result = self._object_field(
                        plan, parent_type, source_value, field_details_list, field_path
                    )
                else:
                    result = self.execute_field(
                        parent_type, source_value, field_details_list, field_path, position_context
                    )
                if result is not Undefined:
                    results[name] = result
                    if type(result) is not dict and self.is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background(_picked(results, awaitable_fields))
            raise
        if not awaitable_fields:
            return results
        return self._gathered(results, awaitable_fields)

    def _selection(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[Selected]:
        """The selection's fields with their plans: looked up once per request (a list of
        objects executes the same selection for every item), planned once per operation."""
        cached = self._selections.get(id(grouped_field_set))
        if cached is None:
            plans = self._plans(parent_type, grouped_field_set)
            selection = [
                Selected(name, details, plan)
                for (name, details), plan in zip(grouped_field_set.items(), plans, strict=True)
            ]
            cached = self._selections[id(grouped_field_set)] = (grouped_field_set, selection)
        return cached[1]

    def _plans(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[FieldPlan | None]:
        """The plans of a selection, kept with the operation's syntax tree: a known document
        (`DocumentCache`) brings the same tree, so its selections are planned once."""
        known = self._operation().plans
        key = (
            parent_type,
            *((name, *map(id, _nodes(details))) for name, details in grouped_field_set.items()),
        )
        plans = known.get(key)
        if plans is None:
            plans = known[key] = [
                plan_field(self.schema, parent_type, _nodes(details))
                for details in grouped_field_set.values()
            ]
        return plans

    def _object_field(
        self,
        plan: FieldPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        if plan.call is not None:
            return self._called_field(plan, parent_type, source, field_details_list, path)
        value = _read(source, plan.attribute)
        if value is None and not plan.non_null:
            return None
        if value is None or value is Undefined:  # the general way reports it
            return self.execute_field(parent_type, source, field_details_list, path, None)
        return self._complete_objects(plan, field_details_list, path, value)

    def _called_field(
        self,
        plan: FieldPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> AwaitableOrValue[Any]:
        """A `@direct` resolver's objects, completed as graphql-core completes a resolver's
        value (its errors, a null for a non-null field, an awaitable), by the plan."""
        info = self.build_resolve_info(plan.field, plan.nodes, parent_type, path)
        try:
            value = plan.call(source, info)  # type: ignore[misc]
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None
        if self.is_awaitable(value):
            return self._called_later(plan, field_details_list, path, value)
        return self._resolved(plan, field_details_list, path, value)

    async def _called_later(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        try:
            value = await value
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None
        completed = self._resolved(plan, field_details_list, path, value)
        return await completed if self.is_awaitable(completed) else completed

    def _resolved(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> AwaitableOrValue[Any]:
        if value is None:
            if plan.non_null:
                error = TypeError(f"Cannot return null for non-nullable field {plan.field_name}.")
                self.handle_field_error(error, plan.return_type, field_details_list, path)
            return None
        return self._complete_objects(plan, field_details_list, path, value)

    def _complete_objects(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> AwaitableOrValue[Any]:
        try:
            subfields = self._subfields(plan, field_details_list)
            if plan.item_non_null is None:
                completed = self._complete_object(plan, field_details_list, subfields, path, value)
            else:
                completed = self._complete_list(plan, field_details_list, subfields, path, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None
        if type(completed) is not dict and self.is_awaitable(completed):
            return self._settled(completed, plan.return_type, field_details_list, path)
        return completed

    def _subfields(
        self, plan: FieldPlan, field_details_list: FieldDetailsList
    ) -> GroupedFieldSet | None:
        """The fields selected on the object type, or None when a deferred fragment needs
        graphql-core's incremental bookkeeping. graphql-core memoizes them per request by
        (type, field list); a planned field's type is fixed, so the list alone keys them here
        (held with them, so its id is never reused meanwhile)."""
        known = self._subfield_sets.get(id(field_details_list))
        if known is None:
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                plan.object_type, field_details_list
            )
            subfields = None if new_defer_usages else grouped_field_set
            known = self._subfield_sets[id(field_details_list)] = (field_details_list, subfields)
        return known[1]

    def _complete_object(
        self,
        plan: FieldPlan,
        field_details_list: FieldDetailsList,
        subfields: GroupedFieldSet | None,
        path: Path,
        value: Any,
    ) -> AwaitableOrValue[Any]:
        object_type = plan.object_type
        if not plan.is_type_of(value):
            raise invalid_return_type_error(object_type, value, field_details_list)
        if subfields is None:
            return self.collect_and_execute_subfields(
                object_type, field_details_list, path, value, None
            )
        return self.execute_fields(object_type, value, path, subfields, None)

    def _complete_list(
        self,
        plan: FieldPlan,
        field_details_list: FieldDetailsList,
        subfields: GroupedFieldSet | None,
        path: Path,
        items: Any,
    ) -> AwaitableOrValue[list[Any]]:
        if type(items) is not list and (  # a list is the common case: no ABC check for it
            not isinstance(items, Iterable) or isinstance(items, str | bytes)
        ):
            raise TypeError(
                f"Expected Iterable, but did not find one for field '{plan.field_name}'."
            )
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                result = self._complete_item(
                    plan, field_details_list, subfields, _new_path(Path, (path, index, None)), item
                )
                completed.append(result)
                if type(result) is not dict and self.is_awaitable(result):
                    awaitable_indices.append(index)
        except Exception:
            if awaitable_indices:
                self.settle_in_background(_picked(completed, awaitable_indices))
            raise
        if not awaitable_indices:
            return completed
        return self._gathered(completed, awaitable_indices)

    def _complete_item(
        self,
        plan: FieldPlan,
        field_details_list: FieldDetailsList,
        subfields: GroupedFieldSet | None,
        path: Path,
        item: Any,
    ) -> AwaitableOrValue[Any]:
        try:
            if item is None:
                if plan.item_non_null:
                    raise TypeError(f"Cannot return null for non-nullable field {plan.field_name}.")
                return None
            completed = self._complete_object(plan, field_details_list, subfields, path, item)
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.item_type, field_details_list, path)
            return None
        if type(completed) is not dict and self.is_awaitable(completed):
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
    async def _gathered(container: Any, keys: list[Any]) -> Any:
        """`container` (the results of a selection, or of a list) with the awaitables at
        `keys` replaced by their values, awaited together (one alone is awaited directly)."""
        if len(keys) == 1:
            container[keys[0]] = await container[keys[0]]
            return container
        awaited = await gather_with_cancel(*(container[key] for key in keys))
        for key, value in zip(keys, awaited, strict=True):
            container[key] = value
        return container


def _picked(container: Any, keys: list[Any]) -> list[Any]:
    """`container`'s values at `keys`. A helper, not a comprehension in the hot functions:
    a comprehension's reference to a local makes that local a cell, created on every call
    and read through on every access (a dashboard completes 3,500 selections)."""
    return [container[key] for key in keys]


def _read(source: Any, attribute: str) -> Any:
    """The attribute's value, or Undefined when the general way must report what it raised."""
    try:
        return getattr(source, attribute)
    except Exception:  # the general way reports it, located
        return Undefined


class _DirectiveFinder(Visitor):
    found = False

    def enter_directive(self, *_: Any) -> Any:
        self.found = True
        return BREAK


def _has_directives(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDetails]
) -> bool:
    """Whether a directive (or a fragment variable) appears anywhere in the operation or the
    document's fragments: what makes the collected fields depend on the variables."""
    if any(fragment.variable_signatures for fragment in fragments.values()):
        return True
    finder = _DirectiveFinder()
    for node in (operation, *(fragment.definition for fragment in fragments.values())):
        visit(node, finder)
    return finder.found


def _nodes(field_details_list: FieldDetailsList) -> list[FieldNode]:
    return [details.node for details in field_details_list]
