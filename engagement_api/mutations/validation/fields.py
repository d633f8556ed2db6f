"""Reusable field types of the input models: trimming, limits, global IDs (domain rules §4)."""

import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

from engagement_api.mutations.refusals import not_found_message
from engagement_api.schema.ids import parse_global_id

NAME_MAX = 255
CONTENT_MAX = 20_000
DESCRIPTION_MAX = 20_000
ATTACHMENTS_MAX = 20
URL_MAX = 2_048
SIZE_MAX = 2_147_483_647
URL_SCHEMES = frozenset({"https", "http"})

NOT_FOUND = "not_found"
"""The pydantic error type that becomes a `NOT_FOUND` user error instead of `INVALID`."""


def _blank_to_none(value: str) -> str | None:
    return value or None


def _no_nul(value: str) -> str:
    """PostgreSQL text and jsonb cannot hold U+0000: refuse it as bad input."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "Must not contain NUL (U+0000) characters.")
    return value


STORABLE = AfterValidator(_no_nul)


def _ranges(*spans: tuple[int, int]) -> str:
    return "".join(chr(code) for first, last in spans for code in range(first, last + 1))


WHITE_SPACE = _ranges(
    (0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
    (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000),
)  # fmt: skip
"""Unicode's White_Space characters."""

NEVER_SHOWN = _ranges(
    (0xAD, 0xAD), (0x61C, 0x61C), (0x115F, 0x1160), (0x180E, 0x180E), (0x200B, 0x200F),
    (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0x3164, 0x3164), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0x1BCA0, 0x1BCA3),
)  # fmt: skip
"""Characters that show nothing and change nothing of their neighbours: zero-width
spaces and joiners, the byte order mark, bidi marks and controls, fillers. Unicode's other
default-ignorable characters (variation selectors, emoji tags) change how the character
before them is drawn: a heart emoji, a flag, a name's kanji variant end with them."""

_TRIMMED = WHITE_SPACE + NEVER_SHOWN


def _trim(value: object) -> object:
    """Text without white space or never-shown characters at either end: a name made only
    of them is blank, as one of spaces is. (A validator placed after the length limits,
    so that it runs before them and pydantic reports them as string limits.)"""
    return value.strip(_TRIMMED) if isinstance(value, str) else value


TRIMMED = BeforeValidator(_trim)


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        valid = (
            parts.scheme.lower() in URL_SCHEMES
            and bool(parts.hostname)
            and (parts.port is None or parts.port > 0)  # `port` raises when out of range
            and not any(c.isspace() for c in value)
        )
    except ValueError:  # a bracketed host that is no IPv6 address, a port that is no number
        valid = False
    if not valid:
        raise PydanticCustomError(
            "url_scheme", "Must be an absolute https (or http) URL.", {"value": value}
        )
    return value


@dataclass(frozen=True, slots=True)
class GlobalIdOf:
    """Decodes a global ID of `type_name` to its uuid; `NOT_FOUND` when malformed or of
    another type (the same answer as for an id that does not exist)."""

    type_name: str

    def __call__(self, value: object) -> uuid.UUID:
        row_id = parse_global_id(value, self.type_name) if isinstance(value, str) else None
        if row_id is None:
            raise PydanticCustomError(NOT_FOUND, not_found_message(self.type_name))
        return row_id


def global_id(type_name: str) -> PlainValidator:
    return PlainValidator(GlobalIdOf(type_name))


Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), TRIMMED, STORABLE]
"""A required name, subject or title: trimmed, 1-255 characters."""

OptionalName = Annotated[
    str,
    StringConstraints(max_length=NAME_MAX),
    TRIMMED,
    STORABLE,
    AfterValidator(_blank_to_none),
]
"""An optional name or subject: trimmed, at most 255 characters; blank means none."""

Description = Annotated[
    str,
    StringConstraints(max_length=DESCRIPTION_MAX),
    TRIMMED,
    STORABLE,
    AfterValidator(_blank_to_none),
]

Content = Annotated[str, StringConstraints(min_length=1, max_length=CONTENT_MAX), TRIMMED, STORABLE]
"""Message content: trimmed, 1-20,000 characters."""

Url = Annotated[
    str,
    StringConstraints(max_length=URL_MAX),
    TRIMMED,
    STORABLE,
    AfterValidator(_http_url),
]

Size = Annotated[int, Field(ge=0, le=SIZE_MAX)]

EngagementId = Annotated[uuid.UUID, global_id("Engagement")]
ProjectId = Annotated[uuid.UUID, global_id("Project")]
ConversationId = Annotated[uuid.UUID, global_id("Conversation")]
MessageId = Annotated[uuid.UUID, global_id("Message")]
ProposalId = Annotated[uuid.UUID, global_id("Proposal")]
UserId = Annotated[uuid.UUID, global_id("User")]
ServiceId = Annotated[uuid.UUID, global_id("Service")]
