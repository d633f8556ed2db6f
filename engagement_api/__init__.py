"""The Engagement API: a GraphQL server for a services business."""

__version__ = "0.1.0"
