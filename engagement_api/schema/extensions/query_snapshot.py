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

from graphql import OperationType
from strawberry.extensions import SchemaExtension

from engagement_api.errors import ClientError
from engagement_api.schema.extensions.operation_selection import REQUESTED, select_operation


class QuerySnapshot(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        requested = REQUESTED.get()
        document = self.execution_context.graphql_document
        if requested is None or document is None:
            return  # not over HTTP (a WebSocket subscription), or not parsed
        try:
            operation = select_operation(document, requested.name)
        except ClientError:
            return  # refused by OperationSelection: nothing runs
        if operation.operation is OperationType.QUERY:
            self.execution_context.context.db.read_one_snapshot()
