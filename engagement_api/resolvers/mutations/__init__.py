"""The write path: one module per entity; `common` holds what every mutation shares."""
