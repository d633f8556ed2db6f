"""What the commands print when the database fails them: one line, never a traceback.

A server that cannot be reached, a database or role that does not exist, a wrong password,
a role without the privileges a command needs: each is an operator's to fix, and
`database_problem` says which in one line (`main` prints it after `engagement-api: `).
"""

import traceback
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

CONNECTING_SQLSTATES = ("08", "28", "3D", "53", "57P")
"""SQLSTATE classes of a connection refused: connection exceptions, authorization (role,
password), an unknown database, insufficient resources (too many connections), a server
shutting down or starting."""


def database_problem(error: BaseException, database_url: str | None = None) -> str | None:
    """One line saying how the database failed a command; None for any other error."""
    cause: BaseException = error
    if isinstance(error, DBAPIError):
        cause = error.orig if error.orig is not None else error
        if isinstance(cause.__cause__, asyncpg.PostgresError):
            cause = cause.__cause__
    elif isinstance(error, OSError) and not _raised_by_the_driver(error):
        return None  # a file, a port: not the database's
    elif not isinstance(error, OSError | PoolTimeoutError | asyncpg.PostgresError):
        return None
    sqlstate = str(getattr(cause, "sqlstate", None) or "")
    detail = " ".join(str(cause).split()) or type(cause).__name__
    connecting = not sqlstate or sqlstate.startswith(CONNECTING_SQLSTATES)
    if connecting:
        return f"cannot connect to the database{_target(database_url)}: {detail}"
    return f"the database refused the command{_target(database_url)}: {detail}"


ASYNCPG = str(Path(asyncpg.__file__).parent)


def _raised_by_the_driver(error: BaseException) -> bool:
    """Whether asyncpg raised `error` (connecting, or on a connection)."""
    frames = traceback.walk_tb(error.__traceback__)
    return any(frame.f_code.co_filename.startswith(ASYNCPG) for frame, _ in frames)


def _target(database_url: str | None) -> str:
    """` (HOST:PORT/NAME as USER)` of a URL, never its password; empty without one."""
    if not database_url:
        return ""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return ""
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
    return f" ({where} as {url.username})" if url.username else f" ({where})"
