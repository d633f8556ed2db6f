"""The library versions the fast path was verified against (the whole test suite, in both
modes). The fast path runs only when the installed versions are exactly these; after an
upgrade, run the suite in both modes and set the new versions here."""

VERIFIED: dict[str, str] = {
    # The converter's field back-references, the default resolvers' `_is_default`,
    # `Info`'s `_raw_info` and `_field` fields, the extension runner's context managers
    # (plain_fields.py, hook_runner.py, graphql_info in __init__.py).
    "strawberry-graphql": "0.341.2",
    # Verified with the rest (the fast path calls graphql-core's public API only).
    "graphql-core": "3.3.2",
    # The read path compiles templates through the public API; verified with the rest.
    "sqlalchemy": "2.1.9",
    # The loaders hand it their cache map (public); verified with the rest.
    "aiodataloader": "0.4.3",
    # Reads run on the driver connection (public); verified with the rest.
    "asyncpg": "0.32.0",
}

UVICORN_HEADER_LIMITS = "0.55."
"""The Uvicorn minor version whose httptools protocol `uvicorn_headers.py` extends (its
parser callbacks); with another one the server runs h11 (http/protocol.py)."""
