"""The execution context class that runs planned operations, and stock execution for the rest.

It is the class Strawberry uses by default with `execute_operation` (graphql-core's public
entry point for an executor) taking queries it can plan: Strawberry's parsing, validation,
extensions and error processing around it stay as they are.
"""

from collections.abc import Awaitable
from typing import Any

from graphql import FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode

from engagement_api.compiler.collect import UnsupportedDocumentError
from engagement_api.compiler.execute import Execution
from engagement_api.compiler.plan import OperationPlan, plan_operation
from engagement_api.compiler.stock import StockExecutionContext

MAX_PLANNED_OPERATIONS = 1024
"""Operations whose plans are kept per process. The document cache hands back the same
syntax tree for a known document, so its operation is planned once; each entry holds its
operation, so the id keying it is never reused while it lives."""

_plans: dict[int, tuple[OperationDefinitionNode, OperationPlan | None]] = {}


def planned(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> OperationPlan | None:
    """The operation's plan, made on its first execution; None when it is not supported."""
    known = _plans.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    try:
        plan: OperationPlan | None = plan_operation(schema, operation, fragments)
    except UnsupportedDocumentError:
        plan = None
    except RecursionError:  # a document nested too deeply: stock execution reports it
        plan = None
    if len(_plans) >= MAX_PLANNED_OPERATIONS:
        _plans.clear()
    _plans[id(operation)] = (operation, plan)
    return plan


class CompiledExecutor(StockExecutionContext):
    """Executes a planned query by its plan; anything else as graphql-core does."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = None
        if not serially and self._plain():
            plan = planned(self.schema, self.operation, self.fragment_definitions)
        if plan is None:
            return super().execute_operation(serially)
        return Execution(
            plan,
            self.root_value,
            self.variable_values,
            self.build_resolve_info,
            self.is_awaitable,
            self.hide_suggestions,
            self.type_resolver,
            self.schema,
            self.context_value,
        ).run()

    def _plain(self) -> bool:
        """No resolver middleware (an extension's `resolve` hook), abort signal or hooks:
        what a plan does not provide for."""
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return False
        return self.abort_signal is None and self.hooks is None


def execute_rows(executor: Any, roots: list[Any]) -> Awaitable[list[Any] | None] | None:
    """The operation's data for each of `roots` (its root values, such as a subscription's
    events) in one run of its plan, the levels taking every root's rows at once; the
    executor's own root value serves the resolvers' `info.root_value`. None when the
    executor is not one that runs plans, or the operation has no plan; the awaitable gives
    None when any root's execution has an error (see `Execution.run_rows`)."""
    if not isinstance(executor, CompiledExecutor) or not executor._plain():
        return None
    plan = planned(executor.schema, executor.operation, executor.fragment_definitions)
    if plan is None:
        return None
    return Execution(
        plan,
        executor.root_value,
        executor.variable_values,
        executor.build_resolve_info,
        executor.is_awaitable,
        executor.hide_suggestions,
        executor.type_resolver,
        executor.schema,
    ).run_rows(roots)
