"""One module per entity: each type maps a row to plain fields and resolves relations
through loaders only."""
