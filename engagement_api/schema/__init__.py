"""The GraphQL schema: Strawberry types (one module per entity), inputs, permissions."""
