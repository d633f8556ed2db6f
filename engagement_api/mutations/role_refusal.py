"""What a viewer whose role may not run a mutation is told (domain rules §2).

Something it may not see is answered exactly as if it did not exist, so every id in the
input is looked up first, as the viewer sees it: the first one it cannot see (malformed,
unknown, another organization's, hidden from it) is `NOT_FOUND`; when it sees them all,
the refusal is `FORBIDDEN`. Nothing is written either way.
"""

import itertools
from typing import Any, get_args

from pydantic import PlainValidator

from engagement_api import loaders
from engagement_api.context import RequestContext
from engagement_api.mutations.refusals import INPUT, Refusal, forbidden, not_found
from engagement_api.mutations.validation import InputModel, arguments
from engagement_api.mutations.validation.fields import GlobalIdOf
from engagement_api.schema.ids import parse_global_id


async def role_refusal(
    context: RequestContext, model: type[InputModel] | None, input: Any, requirement: str
) -> Refusal:
    sent = arguments(input) if input is not None else {}
    for name, type_name in _node_ids(model):
        value = sent.get(name)
        if value is None:  # an optional id left out
            continue
        row_id = parse_global_id(value, type_name) if isinstance(value, str) else None
        if row_id is None or await context.loader(loaders.BY_ID[type_name]).load(row_id) is None:
            return not_found(type_name, (*INPUT, name))
    return forbidden(f"Requires {requirement}.")


def _node_ids(model: type[InputModel] | None) -> list[tuple[str, str]]:
    """(input field, node type) of each global ID the model reads, in declaration order."""
    if model is None:
        return []
    found = []
    for name, field in model.model_fields.items():
        # A required id carries its validator on the field; an optional one inside its union.
        optional = [getattr(arg, "__metadata__", ()) for arg in get_args(field.annotation)]
        for meta in itertools.chain(field.metadata, *optional):
            if isinstance(meta, PlainValidator) and isinstance(meta.func, GlobalIdOf):
                found.append((field.alias or name, meta.func.type_name))
    return found
