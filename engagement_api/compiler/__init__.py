"""The operation compiler: a query is planned once per process from its syntax tree and the
schema (public graphql-core and Strawberry API only), then executed a level at a time: one
resolver call per parent row of the level (their DataLoaders batch them into one read), the
level's result dicts built in one pass. Documents it does not plan run on stock execution.
"""

from engagement_api.compiler.executor import CompiledExecutor

__all__ = ["CompiledExecutor"]
