"""Well-known UUIDs."""

import uuid

NO_ROW = uuid.UUID(int=0)
"""Matches no row: stands in for an argument id that is malformed or of another type."""
