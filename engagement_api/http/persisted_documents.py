"""Trusted documents: Apollo's automatic persisted queries and a registered allow-list.

Automatic persisted queries (APQ): a client sends `extensions.persistedQuery.sha256Hash`
without a `query` (a short GET a CDN can cache); an unknown hash answers the error code
`PERSISTED_QUERY_NOT_FOUND`, and the client retries once with the full `query` and the hash,
which registers the document. Registered documents live in an in-process LRU
(`APQ_CACHE_SIZE` entries): every worker process has its own, and a restart empties it, which
costs each client one retry per document.

Registered documents: `PERSISTED_DOCUMENTS_PATH` names an Apollo persisted query manifest
(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
[{"id": "<sha256 of body>", "name": ..., "type": ..., "body": ...}]}`). Its documents are always
known by hash. With `PERSISTED_DOCUMENTS_ONLY=true` (production) nothing else runs: a document
that is not in the manifest answers `PERSISTED_QUERY_NOT_ALLOWED`, and APQ registers nothing.
"""

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engagement_api.errors import ClientError
from engagement_api.settings import Settings

MANIFEST_FORMAT = "apollo-persisted-query-manifest"


class PersistedQueryNotFoundError(ClientError):
    code = "PERSISTED_QUERY_NOT_FOUND"
    default_message = "PersistedQueryNotFound"


class PersistedQueryHashMismatchError(ClientError):
    code = "PERSISTED_QUERY_HASH_MISMATCH"
    default_message = "provided sha does not match query"


class PersistedQueryNotAllowedError(ClientError):
    code = "PERSISTED_QUERY_NOT_ALLOWED"
    default_message = "Only registered documents may be executed on this server."


class PersistedQueryVersionError(ClientError):
    code = "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
    default_message = "Unsupported persisted query version: this server reads version 1."


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedDocuments:
    """Resolves a request's document from its `query` and `extensions.persistedQuery`."""

    def __init__(
        self, *, registered: Mapping[str, str], only_registered: bool, cache_size: int
    ) -> None:
        """Args:
        registered: documents by the hex SHA-256 of their text (the manifest).
        only_registered: refuse every document that is not registered.
        cache_size: how many automatically persisted documents the LRU keeps.
        """
        self._registered = dict(registered)
        self._only_registered = only_registered
        self._cache_size = cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> "PersistedDocuments":
        path = settings.persisted_documents_path
        return cls(
            registered=load_manifest(path) if path else {},
            only_registered=settings.persisted_documents_only,
            cache_size=settings.apq_cache_size,
        )

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to execute; raises a `ClientError` the client is meant to see."""
        sha256 = _requested_hash(extensions)
        if query is None:
            return None if sha256 is None else self._lookup(sha256)
        if sha256 is not None and document_hash(query) != sha256:
            raise PersistedQueryHashMismatchError()
        if self._only_registered:
            if (sha256 or document_hash(query)) not in self._registered:
                raise PersistedQueryNotAllowedError()
        elif sha256 is not None:
            self._remember(sha256, query)
        return query

    def _lookup(self, sha256: str) -> str:
        document = self._registered.get(sha256)
        if document is None and not self._only_registered:
            document = self._cache.get(sha256)
            if document is not None:
                self._cache.move_to_end(sha256)
        if document is None:
            raise PersistedQueryNotFoundError()
        return document

    def _remember(self, sha256: str, query: str) -> None:
        if sha256 in self._registered or self._cache_size <= 0:
            return
        self._cache[sha256] = query
        self._cache.move_to_end(sha256)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def load_manifest(path: Path) -> dict[str, str]:
    """Documents by hash from an Apollo persisted query manifest; every id is checked."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: not an {MANIFEST_FORMAT} file")
    documents: dict[str, str] = {}
    for operation in manifest.get("operations", []):
        body, sha256 = operation["body"], operation["id"]
        if document_hash(body) != sha256:
            raise ValueError(f"{path}: id of {operation.get('name')!r} is not its SHA-256")
        documents[sha256] = body
    return documents


def manifest_operation_names(path: Path) -> list[str]:
    """The names of the operations an Apollo persisted query manifest registers."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    operations = manifest.get("operations", [])
    return [str(operation["name"]) for operation in operations if operation.get("name")]


def _requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if not isinstance(persisted, Mapping):
        return None
    if persisted.get("version", 1) != 1:
        raise PersistedQueryVersionError()
    sha256 = persisted.get("sha256Hash")
    return sha256.lower() if isinstance(sha256, str) else None
