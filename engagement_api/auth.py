"""Bearer JWTs (domain rules §6): minted for the CLI and tests, verified per request."""

import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from engagement_api.settings import Settings


class AuthenticationError(Exception):
    """The request's credentials are missing, malformed, expired or wrongly signed."""


def mint_token(
    user_id: uuid.UUID, settings: Settings, *, lifetime: timedelta = timedelta(hours=24)
) -> str:
    """An HS256 token for `user_id` (development, tests and the CLI); ValueError for a
    lifetime beyond `JWT_MAX_LIFETIME_SECONDS` (servers refuse such tokens)."""
    if lifetime.total_seconds() > settings.jwt_max_lifetime_seconds:
        raise ValueError(
            f"A token may live at most {settings.jwt_max_lifetime_seconds} seconds "
            "(JWT_MAX_LIFETIME_SECONDS)."
        )
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": str(user_id), "iat": now, "exp": now + lifetime}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` value; None when there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def verify_token(token: str, settings: Settings) -> uuid.UUID:
    """The user id (`sub`) of a valid token; AuthenticationError otherwise."""
    return _verify(token, settings).user_id


def token_valid_until(token: str, settings: Settings) -> float:
    """When a valid token stops verifying (epoch seconds: `exp` and the leeway);
    AuthenticationError if it does not verify now."""
    return _verify(token, settings).valid_until


def _verify(token: str, settings: Settings) -> "_Verified":
    key = settings.jwt_public_key if settings.jwt_algorithm == "RS256" else settings.jwt_secret
    if not key:
        raise AuthenticationError("Token verification is not configured.")
    checks = (token, key, settings.jwt_algorithm, settings.jwt_issuer, settings.jwt_audience)
    known = _verified.get(checks)
    if known is not None and time.time() <= known.valid_until:
        return known
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[settings.jwt_algorithm],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway=settings.jwt_leeway_seconds,
            # PyJWT refuses an `aud` claim it was given no audience for: unconfigured,
            # the claim is not checked (domain rules §6), as `iss` is not.
            options={"require": ["exp", "sub"], "verify_aud": bool(settings.jwt_audience)},
        )
        user_id = uuid.UUID(str(claims["sub"]))
        _check_numeric_dates(claims)
        _check_lifetime(claims, settings.jwt_max_lifetime_seconds)
    except jwt.ExpiredSignatureError as error:
        raise AuthenticationError("The token has expired.") from error
    except (jwt.InvalidTokenError, ValueError) as error:
        raise AuthenticationError("The token is invalid.") from error
    verified = _Verified(user_id, float(claims["exp"]) + settings.jwt_leeway_seconds)
    _remember(checks, verified)
    return verified


def _check_numeric_dates(claims: dict[str, Any]) -> None:
    """`exp`, `iat` and `nbf` are JSON numbers (RFC 7519 NumericDate); PyJWT also takes a
    string of digits."""
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise jwt.InvalidTokenError(f"`{name}` is not a number.")


def _check_lifetime(claims: dict[str, Any], max_lifetime: int) -> None:
    """A token may live at most `max_lifetime` seconds: from `iat` to `exp`, and from now
    to `exp` (a leaked token stays usable until it expires, so its lifetime is bounded)."""
    expires = float(claims["exp"])
    issued = claims.get("iat")
    start = max(float(issued), 0.0) if isinstance(issued, int | float) else time.time()
    if expires - min(start, time.time()) > max_lifetime:
        raise AuthenticationError(
            f"The token lives longer than the {max_lifetime} seconds allowed; "
            "ask for a shorter-lived one."
        )


class _Verified:
    """A token that passed every check; only its expiry can change that verdict (`nbf` and
    `iat` only ever turn a refusal into an acceptance, and refusals are not remembered)."""

    __slots__ = ("user_id", "valid_until")

    def __init__(self, user_id: uuid.UUID, valid_until: float) -> None:
        """Args:
        user_id: the token's subject.
        valid_until: the expiry plus the leeway, in seconds since the epoch.
        """
        self.user_id = user_id
        self.valid_until = valid_until


MAX_VERIFIED_TOKENS = 4096
"""Tokens remembered per process (least recently verified first out): a mobile app sends
the same token with every request, and decoding and checking it costs ~35 us each time."""

_verified: OrderedDict[tuple[str | None, ...], _Verified] = OrderedDict()


def _remember(checks: tuple[str | None, ...], verified: _Verified) -> None:
    _verified[checks] = verified
    while len(_verified) > MAX_VERIFIED_TOKENS:
        _verified.popitem(last=False)
