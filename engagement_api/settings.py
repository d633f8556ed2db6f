"""Configuration from environment variables (see README, "Configuration")."""

import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEVELOPMENT_JWT_SECRET = "dev-secret-change-me-in-production-32b"
MIN_JWT_SECRET_LENGTH = 32
"""HS256 keys shorter than the hash output (32 bytes) are weaker than the algorithm."""
MIN_JWT_SECRET_CHARACTERS = 8
MIN_RSA_KEY_BITS = 2048
"""RSA keys a production server verifies with are at least this long (NIST SP 800-57)."""
"""Different characters a production secret has at least: one typed by hand ("aaaa…", a
row of spaces) is refused; a random one (`openssl rand -hex 32`) always has more."""

PROFILE_SWITCHES = ("graphiql", "anonymous_introspection", "expose_sql_statements")
"""Conveniences on in development and off in production, unless each is set explicitly."""
DATABASE_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="production",
        description=(
            "production: refuses the development or a short JWT_SECRET, and GraphiQL,"
            " anonymous introspection and statement counts are off unless set."
            " `dev.py serve` and `dev.py test` use development."
        ),
    )

    database_url: str | None = Field(
        default=None,
        description="postgresql:// URL of the owner role; unset starts an embedded PostgreSQL.",
    )
    database_app_url: str | None = Field(
        default=None,
        description="Optional login of a restricted role for request transactions (RLS).",
    )
    embedded_pgdata: Path = PROJECT_ROOT / ".pgdata"
    embedded_database: str = "engagement"

    redis_url: str | None = Field(
        default=None, description="Redis pub/sub for the live feed instead of LISTEN/NOTIFY."
    )
    broadcast_channel: str = Field(
        default="engagement_events",
        description="NOTIFY / pub/sub channel of the live feed (Redis channels are server-wide).",
    )

    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_public_key: str | None = Field(
        default=None,
        validate_default=True,
        description="PEM public key (RSA) verifying RS256 tokens; checked when read.",
    )
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(default=30, ge=0)
    jwt_max_lifetime_seconds: int = Field(
        default=7 * 24 * 3600,
        gt=0,
        description="Tokens living longer (exp - iat, or exp - now) are refused.",
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Uvicorn worker processes, one per CPU the server may use (at most 256).",
    )
    introspection: bool = Field(
        default=True,
        description="Introspection for authenticated viewers; false refuses it to everyone.",
    )
    # The three profile switches: their default follows ENVIRONMENT (see _profile_defaults).
    graphiql: bool = Field(default=False, description="Serve GraphiQL at GET /graphql.")
    anonymous_introspection: bool = Field(
        default=False, description="Introspection without a token (with INTROSPECTION)."
    )
    expose_sql_statements: bool = Field(
        default=False,
        description="Report each operation's SQL statement count in the response extensions.",
    )
    log_level: str = "INFO"
    log_json: bool = True

    db_pool_size: int = Field(default=10, ge=1)
    db_pool_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=10_000, ge=0)
    db_statement_cache_size: int = Field(default=200, ge=0)
    db_pool_pre_ping: bool = Field(
        default=False,
        description=(
            "Test each pooled connection before a request uses it (3 round trips). Off by"
            " default: a request's first statement is retried once on a fresh connection"
            " when its pooled one died (db/session.py)."
        ),
    )
    db_plan_cache_mode: Literal["auto", "force_generic_plan", "force_custom_plan"] = Field(
        default="force_generic_plan",
        description=(
            "PostgreSQL's plan_cache_mode for the app's connections. The read statements are"
            " prepared once per connection and take every value as a parameter, so one"
            " generic plan serves them all; 'auto' re-plans each execution (about a third of"
            " PostgreSQL's CPU for a thread page). 'auto' sends nothing (behind PgBouncer)."
        ),
    )
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    http_header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a request's headers may take to arrive (408 HEADER_TIMEOUT after).",
    )
    max_header_bytes: int = Field(
        default=32_768,
        ge=1024,
        description="Largest request head accepted (431 HEADER_TOO_LARGE over).",
    )
    http_body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a request body may take to arrive (408 BODY_TIMEOUT after).",
    )
    http_max_connections: int = Field(
        default=10_000,
        gt=0,
        description=(
            "Connections one worker process holds at once, WebSockets included; a request"
            " when that many are open is answered 503. Bounds a worker's memory: each"
            " connection may hold up to MAX_BODY_BYTES of request body. Set it above the"
            " live-feed sockets a worker is to serve."
        ),
    )
    http_send_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Once the server's write buffer for a response, or a WebSocket's events, is"
            " full, a client that takes less than 1 KiB a second of it over this period has"
            " its connection reset and what was written for it freed."
        ),
    )
    http_slots_per_worker: int = Field(
        default=4,
        ge=1,
        description="HTTP requests one worker process runs at once; the others wait in turn.",
    )
    http_shed_queue_over: int | None = Field(
        default=None,
        ge=0,
        description=(
            "When more requests than this wait for a slot of a worker, its responses close"
            " their connections, so that clients reconnect to a less busy worker (one worker"
            " can otherwise hold most keep-alive connections); default 3 x the slots, 0: off."
        ),
    )
    gc_young_threshold: int = Field(
        default=20_000,
        ge=1,
        description="Allocations between young garbage collections (CPython's default: 700).",
    )

    # The fast path (engagement_api/fastpath/, docs/architecture.md).
    fast_path: bool = Field(
        default=True,
        description=(
            "Run the fast path (direct resolvers, the hook runner) when the installed"
            " libraries are the verified versions; false: never (same answers, slower)."
        ),
    )
    fast_path_verified_versions: dict[str, str] | None = Field(
        default=None,
        description=(
            'The verified versions as JSON, {"strawberry-graphql": "..."}, instead of'
            " fastpath/versions.py (a test fakes a mismatch with it)."
        ),
    )

    # Query safety (docs/security.md explains each value).
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_expanded_fields: int = Field(
        default=5_000,
        ge=1,
        description="Fields one document may select once its fragments are expanded.",
    )
    max_directives: int = Field(default=50, ge=0)
    max_tokens: int = Field(default=1_000, ge=1)
    max_query_length: int = Field(default=15_000, ge=1)
    max_body_bytes: int = Field(default=524_288, ge=1024)
    max_query_cost: int = Field(default=250_000, ge=1)
    max_response_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        # Read under its former name too: operators' settings keep working (a number of
        # characters read as bytes is only a tighter bound).
        validation_alias=AliasChoices("max_response_bytes", "max_response_characters"),
        description=(
            "Bytes of JSON one answer's data may take, as sent: a query whose answer is"
            " larger is refused RESPONSE_TOO_LARGE (measured only when its worst case is"
            " larger); a mutation whose payload could be, before it runs. The answer is"
            " built, then encoded, in the worker's memory: with HTTP_SLOTS_PER_WORKER"
            " requests at once, a few times this per slot bounds what answers take"
            " (32 MiB: a few hundred MB for 4 slots). MAX_RESPONSE_CHARACTERS, its former"
            " name, is read as it."
        ),
    )
    max_event_characters: int = Field(
        default=1024 * 1024,
        ge=1024,
        description=(
            "Characters of text one live event of a subscription could hold at worst; a"
            " subscription whose selection could exceed it is refused RESPONSE_TOO_LARGE."
        ),
    )

    cors_origins: list[str] = Field(
        default_factory=list,
        description='Browser origins allowed by CORS, as JSON: ["https://app.example.com"].',
    )
    gzip_minimum_bytes: int = Field(
        default=1_000, ge=0, description="Responses at least this large are gzip-compressed."
    )
    persisted_documents_only: bool = Field(
        default=False,
        description="Run only the documents registered in PERSISTED_DOCUMENTS_PATH (production).",
    )
    persisted_documents_path: Path | None = Field(
        default=None, description="Apollo persisted query manifest of the registered documents."
    )
    apq_cache_size: int = Field(
        default=1_000, ge=1, description="Automatic persisted queries kept per process (LRU)."
    )
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    metrics_token: str | None = Field(
        default=None, description="When set, /metrics answers only 'Authorization: Bearer <it>'."
    )
    metrics_operation_names: list[str] = Field(
        default_factory=list,
        description=(
            'Operation names reported in metrics labels, as JSON: ["Dashboard"] (the persisted'
            " documents' names are added); any other name is reported as `other`."
        ),
    )
    tracing_enabled: bool = Field(default=False, description="Export OpenTelemetry spans.")
    tracing_exporter: Literal["console", "otlp"] = "console"
    tracing_otlp_endpoint: str | None = None
    tracing_service_name: str = "engagement-api"
    subscription_queue_size: int = Field(default=256, ge=1)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    websocket_subscribe_rate: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Subscribes one WebSocket connection may send per second, after a first"
            " burst of MAX_SUBSCRIPTIONS_PER_CONNECTION; faster ones wait (the socket is"
            " not read meanwhile), so a subscribe flood costs bounded CPU."
        ),
    )
    websocket_keepalive_seconds: float = Field(default=15.0, gt=0)
    websocket_anonymous_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "How long a WebSocket connection without credentials stays open after its "
            "acknowledgement (every subscription it sends is refused); then closed 4401."
        ),
    )
    websocket_per_message_deflate: bool = Field(
        default=False,
        description=(
            "Accept the permessage-deflate extension a WebSocket client offers. Off: a live"
            " event is a few hundred bytes, and compressing it costs more CPU per delivered"
            " frame than all the rest of the frame's delivery."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        """Each profile switch not set explicitly is on in development, off in production."""
        if not isinstance(data, dict):
            return data
        development = str(data.get("environment", "production")).lower() == "development"
        return {name: development for name in PROFILE_SWITCHES} | data

    @field_validator(
        "database_url",
        "database_app_url",
        "redis_url",
        "persisted_documents_path",
        "jwt_public_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`NAME=` (as `${NAME:-}` in a compose file writes it) leaves the setting unset."""
        return None if value == "" else value

    @field_validator("database_url", "database_app_url", "redis_url")
    @classmethod
    def _url_of_its_scheme(cls, value: str | None, info: ValidationInfo) -> str | None:
        schemes = REDIS_SCHEMES if info.field_name == "redis_url" else DATABASE_SCHEMES
        if value is not None and urlsplit(value).scheme not in schemes:
            raise ValueError(f"must be a URL of scheme {', '.join(sorted(schemes))}")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _no_surrounding_whitespace(cls, value: str) -> str:
        """A space or line break an env file or a secret store's editor added would sign
        with another key than the identity provider's, and would pass a variant of the
        development secret off as a production one."""
        if value != value.strip():
            raise ValueError(
                "begins or ends with whitespace (a space, a tab or a line break): remove it"
            )
        return value

    @field_validator("jwt_public_key")
    @classmethod
    def _key_of_the_algorithm(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A key that does not parse would fail every request: it is refused at once, in
        every environment, as are RS256 without a key and a key HS256 would leave unused."""
        algorithm = info.data.get("jwt_algorithm")
        if algorithm is None:  # itself invalid, and reported
            return value
        if algorithm == "HS256" and value is not None:
            raise ValueError(
                "set, but JWT_ALGORITHM is HS256, which verifies with JWT_SECRET: set"
                " JWT_ALGORITHM=RS256 to verify with this key, or unset JWT_PUBLIC_KEY"
            )
        if algorithm == "RS256":
            if value is None:
                raise ValueError(
                    "required with JWT_ALGORITHM=RS256: the PEM public key of the identity"
                    " provider that signs the tokens"
                )
            rsa_public_key(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        levels = [name for name in logging.getLevelNamesMapping() if name != "NOTSET"]
        if value.upper() not in levels:
            raise ValueError(f"must be one of {', '.join(levels)}")
        return value.upper()

    @field_validator("persisted_documents_path")
    @classmethod
    def _readable_manifest(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file")
        return value

    @model_validator(mode="after")
    def _manifest_for_persisted_only(self) -> Self:
        if self.persisted_documents_only and self.persisted_documents_path is None:
            raise ValueError(
                "PERSISTED_DOCUMENTS_ONLY needs PERSISTED_DOCUMENTS_PATH (the registered"
                " documents): without it every document would be refused"
            )
        return self

    def startup_error(self) -> str | None:
        """Why the server must not start with these settings (one line), if it must not."""
        if self.environment != "production":
            return None
        if self.jwt_algorithm == "RS256":
            bits = rsa_public_key(self.jwt_public_key or "").key_size
            if bits < MIN_RSA_KEY_BITS:
                return (
                    f"JWT_PUBLIC_KEY is a {bits}-bit RSA key: production needs at least"
                    f" {MIN_RSA_KEY_BITS} bits."
                )
            return None
        if self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            return (
                "JWT_SECRET is the development secret: set a random secret of at least"
                f" {MIN_JWT_SECRET_LENGTH} characters (or ENVIRONMENT=development)."
            )
        if len(self.jwt_secret) < MIN_JWT_SECRET_LENGTH:
            return (
                f"JWT_SECRET is {len(self.jwt_secret)} characters long: production needs at"
                f" least {MIN_JWT_SECRET_LENGTH} (a random secret)."
            )
        if len(set(self.jwt_secret)) < MIN_JWT_SECRET_CHARACTERS:
            return (
                f"JWT_SECRET has {len(set(self.jwt_secret))} different characters: production"
                f" needs a random secret (at least {MIN_JWT_SECRET_CHARACTERS} different)."
            )
        return None

    # Execution
    execution: Literal["compiled", "stock"] = Field(
        default="compiled",
        description=(
            "How queries execute: planned once per operation and run a level at a time"
            " ('compiled'), or by graphql-core's executor ('stock'). Documents the compiler"
            " does not plan run on stock execution either way."
        ),
    )

    # Live feed: the outbox, its retention, resumable and capped subscriptions
    # (engagement_api/broadcast/, db/outbox.py; README, "Live feed").
    max_subscriptions_per_viewer: int = Field(
        default=50,
        ge=1,
        description="Live subscriptions one user may hold at once in one process, across sockets.",
    )
    outbox_retention_seconds: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="Outbox events older than this are pruned (resuming from before: refused).",
    )
    outbox_retention_count: int = Field(
        default=1_000_000, ge=1, description="At most this many newest outbox events are kept."
    )
    outbox_prune_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often a process (one at a time) prunes the outbox."
    )
    live_feed_shared_payloads: bool = Field(
        default=True,
        description=(
            "Execute a live event's selection once per audience, operation and variables, and"
            " send every member the same encoded payload (off: once per subscriber)."
        ),
    )
    live_feed_direct_frames: bool = Field(
        default=True,
        description=(
            "After an operation's first live event, write each event's `next` frame from the"
            " operation's task (off: every event through Strawberry's per-result stream)."
        ),
    )
    live_feed_recheck_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How often an idle subscription checks again that its user exists and still sees"
            " its conversation (every batch of events checks too); one that does not ends"
            " (UNAUTHENTICATED, or NOT_FOUND for a conversation deleted with no live message)."
        ),
    )
    live_feed_behind_seconds: float = Field(
        default=10.0,
        ge=0,
        description=(
            "How long a subscription has to take a batch of events larger than what its queue"
            " holds (SUBSCRIPTION_QUEUE_SIZE; one commit's events, a deleted engagement's"
            " DELETED events) before it ends SUBSCRIBER_TOO_SLOW; the other subscribers of its"
            " conversation wait for it that long at most (0: closed as soon as a batch finds"
            " its queue full)."
        ),
    )
    live_feed_sweep_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How often a process reads the outbox's newest positions of the conversations it"
            " follows: the bound on the delay of an event whose announcement was lost."
        ),
    )
    fault_kill_after_commit: bool = Field(
        default=False,
        description="Testing only: the process kills itself (SIGKILL) between a commit and its "
        "announcement.",
    )


def rsa_public_key(value: str) -> "RSAPublicKey":
    """The RSA public key `value` holds (PEM, or OpenSSH `ssh-rsa`), as PyJWT verifies RS256
    tokens with it; ValueError saying in one line what it is instead."""
    import jwt
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import (
        load_pem_public_key,
        load_ssh_public_key,
    )

    text = value.strip()
    if "-----BEGIN CERTIFICATE-----" in text:
        raise ValueError(
            "is a certificate: give its public key (openssl x509 -pubkey -noout -in CERT)"
        )
    if "PRIVATE KEY-----" in text:
        raise ValueError(
            "is a private key: give the public key (openssl pkey -pubout -in KEY); the"
            " private key signs tokens and stays with the identity provider"
        )
    try:
        loaded = (
            load_ssh_public_key(text.encode())
            if text.startswith("ssh-")
            else load_pem_public_key(text.encode())
        )
    except (ValueError, UnsupportedAlgorithm):
        escaped = " (its line breaks are written \\n: put real ones)" if "\\n" in text else ""
        raise ValueError(
            "is not a public key in PEM form (-----BEGIN PUBLIC KEY-----) or OpenSSH form"
            f" (ssh-rsa){escaped}"
        ) from None
    if not isinstance(loaded, RSAPublicKey):
        kind = type(loaded).__name__.removesuffix("PublicKey")
        raise ValueError(f"is a key of type {kind}: JWT_ALGORITHM=RS256 verifies with an RSA key")
    try:  # the very parse every request's verification does
        jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(value)
    except jwt.InvalidKeyError as error:
        raise ValueError(f"is not a key PyJWT reads: {error}") from None
    return loaded


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
