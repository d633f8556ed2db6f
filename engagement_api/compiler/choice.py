"""Which execution runs queries (the EXECUTION setting): the compiler, or stock execution."""

from typing import Any, Literal

from graphql import Executor

from engagement_api.compiler.executor import CompiledExecutor
from engagement_api.compiler.stock import StockExecutionContext

ExecutionName = Literal["compiled", "stock"]

EXECUTION_CONTEXTS: dict[str, type[Executor[Any]]] = {
    "compiled": CompiledExecutor,
    "stock": StockExecutionContext,
}


def execution_context_class(name: ExecutionName) -> type[Executor[Any]]:
    return EXECUTION_CONTEXTS[name]
