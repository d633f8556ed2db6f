"""Schema extensions: one small single-purpose class per module."""
