"""`level_values`, the future a level resolver returns (`compiler/batch.py`): whatever happens
first (the read succeeds, fails or is cancelled; the execution stops waiting; making the
values fails), the result says it, a cancelled result cancels the read, and nothing is left
for asyncio to report as never retrieved.

Generated: each outcome of the read, each moment the waiter may give up, a maker that works
or raises; compared with a plain model of what the result must be.
"""

import asyncio
import gc
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engagement_api.compiler.batch import level_values

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "100"))

READS = ["rows", "failure", "cancelled"]
GIVING_UP = ["never", "before the read settles", "as the read settles", "after the read settles"]


class ReadFailedError(Exception):
    pass


class MakingFailedError(Exception):
    pass


def expected(read: str, giving_up: str, maker_fails: bool) -> str:
    """The model: what the result holds."""
    if giving_up in ("before the read settles", "as the read settles") or read == "cancelled":
        return "cancelled"
    if maker_fails:
        return "MakingFailedError"
    return "made from rows" if read == "rows" else "made from ReadFailedError"


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    read=st.sampled_from(READS),
    giving_up=st.sampled_from(GIVING_UP),
    maker_fails=st.booleans(),
)
async def test_the_result_follows_the_read_and_leaves_nothing_unretrieved(
    read: str, giving_up: str, maker_fails: bool
) -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        loading: asyncio.Future[list[int]] = loop.create_future()

        def make(rows: list[int] | Exception) -> list[str]:
            if maker_fails:
                raise MakingFailedError
            return ["made from rows"] if isinstance(rows, list) else [f"made from {rows!r}"]

        values = level_values(loading, make)
        if giving_up == "before the read settles":
            values.cancel()
            await asyncio.sleep(0)
            assert loading.cancelled()
        elif read == "rows":
            loading.set_result([1, 2])
        elif read == "failure":
            loading.set_exception(ReadFailedError())
        else:
            loading.cancel()
        if giving_up == "as the read settles":
            values.cancel()  # before the read's callbacks have run
        await asyncio.sleep(0)
        if giving_up == "after the read settles":
            values.cancel()  # too late: the result is already there
        outcome = _outcome(values)
        assert outcome == expected(read, giving_up, maker_fails).replace(
            "ReadFailedError", "ReadFailedError()"
        )
        del loading, values
        gc.collect()
        await asyncio.sleep(0)
        assert reported == []
    finally:
        loop.set_exception_handler(None)


def _outcome(values: "asyncio.Future[list[str]]") -> str:
    assert values.done()
    if values.cancelled():
        return "cancelled"
    error = values.exception()
    if error is not None:
        return type(error).__name__
    (made,) = values.result()
    return made


async def test_a_base_exception_is_passed_on_not_made_into_values() -> None:
    """A `BaseException` that is not an `Exception` (the process stopping) is never handed
    to the maker as a field's error: the result holds it, for the execution to re-raise."""
    loop = asyncio.get_running_loop()
    loading: asyncio.Future[list[int]] = loop.create_future()
    made: list[Any] = []

    def make(rows: list[int] | Exception) -> list[Any]:
        made.append(rows)
        return []

    values = level_values(loading, make)
    loading.set_exception(KeyboardInterrupt())
    await asyncio.sleep(0)
    assert made == []
    assert isinstance(values.exception(), KeyboardInterrupt)
