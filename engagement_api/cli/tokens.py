"""Bearer tokens for development: `engagement-api token` and the tokens `serve --demo` prints.

`print_token` writes only the token to stdout, so `$(engagement-api token --email x)` works;
problems go to stderr with exit code 2. An email that exists in several organizations
needs `--org` (an organization's name or id).
"""

import asyncio
import math
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.auth import mint_token
from engagement_api.cli import seed
from engagement_api.cli.failures import database_problem
from engagement_api.db.engine import EngineOptions, create_engine, resolve_database_url
from engagement_api.db.models import Organization, User
from engagement_api.db.tenancy import BYPASSES_ROW_LEVEL_SECURITY
from engagement_api.settings import Settings, get_settings

DEMO_LOGINS: dict[str, str] = {
    "admin": seed.DEMO_ADMIN_EMAIL,
    "staff": seed.DEMO_STAFF_EMAIL,
    "client": seed.DEMO_CLIENT_EMAIL,
}
"""The demo users `demo_tokens` mints for, by role (all of the demo organization)."""


class UserLookupError(Exception):
    """The user cannot be identified: unknown, ambiguous, or malformed input."""


@dataclass(frozen=True)
class _Candidate:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    organization: str


def _parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError as error:
        raise UserLookupError(f"{what} {value!r} is not a UUID.") from error


def _organization_matches(candidate: _Candidate, org: str) -> bool:
    try:
        return candidate.organization_id == uuid.UUID(org.strip())
    except ValueError:
        return candidate.organization.casefold() == org.strip().casefold()


async def _candidates(
    engine: AsyncEngine, *, user_id: uuid.UUID | None, email: str | None
) -> list[_Candidate]:
    query = select(User.id, Organization.id, Organization.name).join(
        Organization, Organization.id == User.org_id
    )
    if user_id is not None:
        query = query.where(User.id == user_id)
    else:
        query = query.where(func.lower(User.email) == (email or "").strip().lower())
    async with engine.connect() as connection:
        if not await connection.scalar(text(BYPASSES_ROW_LEVEL_SECURITY)):
            raise UserLookupError(
                "Finding a user reads every organization and needs the owner connection "
                "(a superuser or a BYPASSRLS role) in DATABASE_URL: row-level security hides "
                "every user from this one."
            )
        rows = (await connection.execute(query.order_by(Organization.name))).all()
    return [_Candidate(row[0], row[1], row[2]) for row in rows]


async def find_user(
    engine: AsyncEngine,
    *,
    user_id: str | None = None,
    email: str | None = None,
    org: str | None = None,
) -> uuid.UUID:
    """The id of the user named by id, or by email (and `org` when the email is not unique)."""
    if (user_id is None) == (email is None):
        raise UserLookupError("Name the user by exactly one of --user-id and --email.")
    parsed = _parse_uuid(user_id, "User id") if user_id is not None else None
    found = await _candidates(engine, user_id=parsed, email=email)
    who = f"id {user_id}" if user_id is not None else f"email {email!r}"
    if not found:
        raise UserLookupError(f"No user with {who}.")
    if org is not None:
        found = [candidate for candidate in found if _organization_matches(candidate, org)]
        if not found:
            raise UserLookupError(f"No user with {who} in organization {org!r}.")
    if len(found) > 1:
        names = ", ".join(f"{c.organization} ({c.organization_id})" for c in found)
        raise UserLookupError(
            f"The {who} exists in several organizations: {names}. "
            "Pass --org with an organization's name or id."
        )
    return found[0].user_id


def _lifetime(hours: float, settings: Settings) -> timedelta:
    if not math.isfinite(hours) or hours <= 0:
        raise UserLookupError("--hours must be a positive number.")
    most = settings.jwt_max_lifetime_seconds / 3600
    if hours > most:
        raise UserLookupError(
            f"--hours may be at most {most:g} (JWT_MAX_LIFETIME_SECONDS): servers refuse "
            "longer-lived tokens."
        )
    return timedelta(hours=hours)


def _require_shared_secret(settings: Settings) -> None:
    """The CLI signs with `JWT_SECRET` (HS256); servers set to RS256 would refuse its tokens,
    and production servers refuse to start with the secret these settings have."""
    if settings.jwt_algorithm != "HS256":
        raise UserLookupError(
            f"JWT_ALGORITHM is {settings.jwt_algorithm}: the servers accept only tokens signed "
            "with the private key of your identity provider, and this command signs with "
            "JWT_SECRET (HS256). Get a token from the provider instead."
        )
    refusal = settings.startup_error()
    if refusal is not None:
        raise UserLookupError(f"{refusal} No server runs with this secret.")


async def _lookup(
    database_url: str, user_id: str | None, email: str | None, org: str | None
) -> uuid.UUID:
    engine = create_engine(database_url, EngineOptions(pool_size=1, max_overflow=0))
    try:
        return await find_user(engine, user_id=user_id, email=email, org=org)
    finally:
        await engine.dispose()


def print_token(
    user_id: str | None = None,
    email: str | None = None,
    org: str | None = None,
    hours: float = 24.0,
    *,
    database_url: str | None = None,
    settings: Settings | None = None,
) -> int:
    """CLI entry: print a token for the user (stdout: the token only). 0, or 2 on errors."""
    settings = settings or get_settings()
    url = database_url
    try:
        _require_shared_secret(settings)
        lifetime = _lifetime(hours, settings)
        url = url or resolve_database_url(settings)
        subject = asyncio.run(_lookup(url, user_id, email, org))
    except UserLookupError as error:
        print(f"engagement-api: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        problem = database_problem(error, url)
        if problem is None:
            raise
        print(f"engagement-api: {problem}", file=sys.stderr)
        return 2
    print(mint_token(subject, settings, lifetime=lifetime))
    return 0


async def demo_tokens(
    engine: AsyncEngine, settings: Settings | None = None, *, hours: float = 24.0
) -> dict[str, str]:
    """Tokens for the demo admin, a staff user and a client, keyed by the keys of DEMO_LOGINS.

    Raises UserLookupError when the demo organization has not been seeded.
    """
    settings = settings or get_settings()
    ids = {role: seed.user_id(seed.DEMO_ORG_KEY, email) for role, email in DEMO_LOGINS.items()}
    async with engine.connect() as connection:
        result = await connection.execute(select(User.id).where(User.id.in_(ids.values())))
        present = set(result.scalars())
    missing = [DEMO_LOGINS[role] for role, id_ in ids.items() if id_ not in present]
    if missing:
        raise UserLookupError(f"Demo users missing ({', '.join(missing)}): run the seed first.")
    _require_shared_secret(settings)
    lifetime = _lifetime(hours, settings)
    return {role: mint_token(id_, settings, lifetime=lifetime) for role, id_ in ids.items()}
