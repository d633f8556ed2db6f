"""A query reads the database as of one moment.

Its statements (a dashboard sends about nine, one per level) run in one transaction, but
under PostgreSQL's default READ COMMITTED each statement takes its own snapshot: a write
committed between two levels shows in one and not the other (a project whose engagement
is gone, a total that its edges contradict). A query's transaction is therefore
REPEATABLE READ, READ ONLY (`DatabaseSession.read_one_snapshot`). Mutations keep READ
COMMITTED: their locking reads wait for a concurrent write and then see it, where
REPEATABLE READ would refuse them with a serialization failure.
"""

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType


class QuerySnapshot(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        try:
            operation_type = self.execution_context.operation_type
        except RuntimeError:
            return  # not parsed, or no operation: nothing runs
        if operation_type is OperationType.QUERY:
            self.execution_context.context.db.read_one_snapshot()
