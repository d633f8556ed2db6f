"""The garbage collector's settings for a serving process (docs/performance.md).

A dashboard read builds about 10^5 short-lived container objects (rows, GraphQL results,
coroutines). With CPython's default generation-0 threshold of 700, that is a hundred young
collections per request, and every few of them an older collection that walks every object
the process holds: the schema, SQLAlchemy's caches, the modules, and every other in-flight
request's objects, so its cost grows with concurrency. Freezing what startup built takes it
out of the collector's sight for good (measured: -40% CPU per dashboard). The young
threshold stays configurable (`Settings.gc_young_threshold`), but at concurrency 32 raising
it saved no CPU and grew each worker by 100 MB, so it keeps CPython's 700.
"""

import gc


def tune_for_serving(young_threshold: int) -> None:
    """Call once per worker, after startup has imported and built everything.
    `young_threshold`: allocations minus deallocations between two generation-0
    collections (`Settings.gc_young_threshold`)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, older, oldest)
