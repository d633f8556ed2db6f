"""Everything one operation shares: settings, database session, loaders, viewer, events."""

import asyncio
import uuid
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.auth import AuthenticationError, token_valid_until, verify_token
from engagement_api.db.enums import Role
from engagement_api.db.scope import Scope
from engagement_api.db.session import DatabaseSession
from engagement_api.errors import ClientError, UnauthenticatedError
from engagement_api.events import Announcement
from engagement_api.settings import Settings

if TYPE_CHECKING:
    from engagement_api.broadcast import Broadcaster

LoaderT = TypeVar("LoaderT")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The authenticated user, its organization and role, read from the database."""

    user: Any
    scope: Scope

    @property
    def role(self) -> Role:
        return self.scope.role


@dataclass(slots=True)
class Runs:
    """The runs of one request's operation. Over HTTP a run that a conflict undid (deadlock,
    serialization failure) is rolled back and run again, up to `allowed` runs in all: only
    the last one's outcome is the request's, and is logged and counted."""

    allowed: int = 1
    count: int = 1
    undone_seconds: float = 0.0
    """How long the runs before this one took."""
    deadline: float | None = None
    """The event loop's time at which the request is out of time (`REQUEST_TIMEOUT_SECONDS`)."""


class RequestContext:
    """Per-operation state. Loaders live here, so they never outlive a request or a viewer."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: AsyncEngine,
        request_id: str,
        token: str | None,
        authentication_error: str | None = None,
        broadcaster: "Broadcaster | None" = None,
    ) -> None:
        self.settings = settings
        self.broadcaster = broadcaster
        """The process's live-feed broadcaster (publishes `events`, feeds subscriptions)."""
        self.connection_params: dict[str, object] | None = None
        """The WebSocket `connection_init` payload (set by Strawberry)."""
        self.engine = engine
        self.request_id = request_id
        self.db = DatabaseSession(engine)
        self.runs = Runs()
        self.answer_size_wanted = False
        """Set by the query cost when the answer may be over its limit: a planned query's
        execution then bounds its size (`answer_bytes_at_most`)."""
        self.answer_bytes_at_most: int | None = None
        self.events: list[Announcement] = []
        """Written to the outbox by mutations; announced again after the commit (Redis)."""
        self._token = token
        self._authentication_error = authentication_error
        self._loaders: dict[type[Any], Any] = {}
        self._viewer: asyncio.Future[Viewer] | None = None
        self.of_connection = False
        """A WebSocket connection's context, shared by its subscriptions for the socket's
        life: it must hold no transaction (each subscription reads in scopes of its own)."""

    def use_credentials(self, token: str | None, authentication_error: str | None) -> None:
        """Replace the credentials (WebSocket `connection_init`) before any viewer lookup."""
        if self._viewer is not None:
            raise RuntimeError("the viewer is already loaded")
        self._token, self._authentication_error = token, authentication_error

    @property
    def has_credentials(self) -> bool:
        return self._token is not None or self._authentication_error is not None

    @property
    def scope(self) -> Scope:
        """The viewer's scope; only valid once `viewer()` has succeeded."""
        if self._viewer is None or not self._viewer.done() or self._viewer.exception():
            raise RuntimeError("the viewer is not loaded")
        return self._viewer.result().scope

    async def viewer(self) -> Viewer:
        """The authenticated viewer, loaded once per operation; UnauthenticatedError otherwise."""
        if self._viewer is None:
            if self.of_connection:  # its transaction would stay open as long as the socket
                raise RuntimeError("a connection's context reads nothing: use a fresh scope")
            self._viewer = asyncio.ensure_future(self._load_viewer())
        return await asyncio.shield(self._viewer)

    async def check_viewer(self) -> None:
        """UnauthenticatedError unless the credentials name an existing user; on a
        connection's context, checked in a transaction of its own, ended at once."""
        if not self.of_connection:
            await self.viewer()
            return
        scope = self.fresh_scope()
        try:
            await scope.viewer()
        finally:
            await scope.close(commit=False)

    async def _load_viewer(self) -> Viewer:
        if self._authentication_error is not None:
            raise UnauthenticatedError(self._authentication_error)
        if self._token is None:
            raise UnauthenticatedError()
        try:
            user_id = verify_token(self._token, self.settings)
        except AuthenticationError as error:
            raise UnauthenticatedError(str(error)) from error
        user = await self.db.open_for_viewer(user_id)
        if user is None:
            raise UnauthenticatedError("The token's user does not exist.")
        return Viewer(user=user, scope=Scope(org_id=user.org_id, user_id=user.id, role=user.role))

    def loader(self, loader_class: type[LoaderT]) -> LoaderT:
        """The request's instance of `loader_class`, created on first use."""
        instance: LoaderT | None = self._loaders.get(loader_class)
        if instance is None:
            instance = loader_class(self)  # type: ignore[call-arg]
            self._loaders[loader_class] = instance
        return instance

    def forget_loaded(self) -> None:
        """Drop every loader's cache (after a write: nothing read before it is served again)."""
        self._loaders.clear()

    async def close(self, *, commit: bool) -> None:
        """End the operation: let go of the loaders, then commit or roll back and give the
        connection back. Loaders point back at their context, so every row they cached sits
        in a reference cycle until then; let go of, the rows are freed at once instead of by
        a full garbage collection (6,600 objects per dashboard, which those collections
        walked with every other request in flight)."""
        self.forget_loaded()
        pending = self._viewer
        if pending is not None and not pending.done():
            # The viewer's lookup is shielded from the operation's cancellation and may
            # still take a connection after this close: that connection is given back
            # when the lookup ends.
            pending.add_done_callback(self._close_after_lookup)
        await self.db.close(commit=commit)

    def _close_after_lookup(self, _lookup: "asyncio.Future[Viewer]") -> None:
        task = asyncio.get_running_loop().create_task(self._roll_back_quietly())
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)

    async def _roll_back_quietly(self) -> None:
        with suppress(ClientError):
            await self.db.close(commit=False)

    @property
    def runs_again(self) -> bool:
        """Whether this run is undone and the operation run again (see `Runs`): what it
        answers reaches no client."""
        return self.runs.count < self.runs.allowed and self.db.conflicted

    def again(self) -> "RequestContext":
        """A context for the same request and credentials, with nothing loaded, read or
        recorded yet (the operation run again from the start)."""
        return RequestContext(
            settings=self.settings,
            engine=self.engine,
            request_id=self.request_id,
            token=self._token,
            authentication_error=self._authentication_error,
            broadcaster=self.broadcaster,
        )

    def fresh_scope(self) -> "RequestContext":
        """A context for the same viewer with its own transaction and empty loaders (one
        subscription event, or its audience): it only reads, so it reads one snapshot, as a
        query does (`QuerySnapshot`)."""
        fresh = self.again()
        fresh.db.read_one_snapshot()
        return fresh

    def token_is_valid(self) -> bool:
        """Whether the operation's token still verifies (signature, expiry): no database."""
        return self.token_valid_until() is not None

    def token_valid_until(self) -> float | None:
        """When the operation's token stops verifying (epoch seconds); None if it does not
        verify now."""
        if self._token is None or self._authentication_error is not None:
            return None
        try:
            return token_valid_until(self._token, self.settings)
        except AuthenticationError:
            return None

    def primed_scope(
        self, viewer: Viewer, primed: dict[type[Any], dict[Any, Any]]
    ) -> "RequestContext":
        """A context for `viewer`, already known, whose loaders start with `primed` rows
        (keyed by loader class): a subscription event resolved once for its audience. A
        field that needs more opens the transaction as this viewer, on first use."""
        fresh = self.fresh_scope()
        fresh._viewer = asyncio.get_running_loop().create_future()
        fresh._viewer.set_result(viewer)
        fresh.db.open_as(viewer.user.id)
        for loader_class, rows in primed.items():
            loader = fresh.loader(loader_class)
            for key, row in rows.items():
                loader.prime(key, row)
        return fresh


_CLOSING: set["asyncio.Task[None]"] = set()
"""Late closes in flight (the event loop keeps only weak references to tasks)."""


def new_request_id() -> str:
    return uuid.uuid4().hex
