"""The garbage collector's settings for a serving process (docs/performance.md).

A dashboard read builds about 10^5 short-lived container objects (rows, GraphQL results,
coroutines). With CPython's default generation-0 threshold of 700, that is a hundred young
collections per request, and every few of them an older collection that walks every object
the process holds: the schema, SQLAlchemy's caches, the modules, and every other in-flight
request's objects, so its cost grows with concurrency. Freezing what startup built takes it
out of the collector's sight for good, and a higher young threshold makes collections rarer
without letting reference cycles grow without bound.
"""

import gc

YOUNG_THRESHOLD = 50_000
"""Allocations (minus deallocations) between two generation-0 collections (CPython: 700)."""


def tune_for_serving() -> None:
    """Call once per worker, after startup has imported and built everything."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
