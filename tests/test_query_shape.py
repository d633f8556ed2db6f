"""The query shape (schema/extensions/query_shape.py) measured in one pass equals the shape of the
fully expanded document, computed by a plain reference that inlines every fragment spread;
and any fragment cycle is refused. Documents are generated: fragments forming any acyclic
spread graph, fields nested, aliased, introspection fields among them."""

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement_api.schema.extensions.query_shape import (
    CYCLE_CODE,
    FragmentCycleError,
    Shape,
    ShapeLimits,
    measure,
    refusals,
)

# A reference: expand every spread in place, then measure the tree --------------------


@dataclass
class Expanded:
    depth: int = 0
    aliases: int = 0
    fields: int = 0


def expand(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> Expanded:
    total = Expanded()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = expand(selection.selection_set, fragments) if selection.selection_set else None
            depth = 0
            if inner is not None and not selection.name.value.startswith("__"):
                depth = inner.depth + 1
            total.depth = max(total.depth, depth)
            total.aliases += (selection.alias is not None) + (inner.aliases if inner else 0)
            total.fields += 1 + (inner.fields if inner else 0)
        else:
            if isinstance(selection, InlineFragmentNode):
                inner = expand(selection.selection_set, fragments)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                inner = expand(fragments[selection.name.value].selection_set, fragments)
            total.depth = max(total.depth, inner.depth)
            total.aliases += inner.aliases
            total.fields += inner.fields
    return total


def reference(document: DocumentNode) -> Shape:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    shape = Shape()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            e = expand(definition.selection_set, fragments)
            shape = shape.beside(Shape(e.depth, e.aliases, e.fields))
    return shape


# Generated documents ------------------------------------------------------------------


@st.composite
def selections(draw: st.DrawFn, spreadable: list[str], levels: int) -> str:
    """A selection set's body: fields (aliased or not, nested up to `levels`), inline
    fragments, and spreads of the fragments in `spreadable`."""
    items = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["leaf", "nested", "inline", "spread", "introspection"]))
        alias = draw(st.sampled_from(["", "a1: ", "a2: "]))
        if kind == "spread" and spreadable:
            items.append(f"...{draw(st.sampled_from(spreadable))}")
        elif kind in ("nested", "introspection") and levels > 0:
            name = "f" if kind == "nested" else "__type"
            items.append(f"{alias}{name} {{ {draw(selections(spreadable, levels - 1))} }}")
        elif kind == "inline" and levels > 0:
            items.append(f"... on Query {{ {draw(selections(spreadable, levels - 1))} }}")
        else:
            items.append(f"{alias}leaf")
    return " ".join(items)


@st.composite
def documents(draw: st.DrawFn, cyclic: bool = False) -> str:
    """One or two operations and up to five fragments; fragment i spreads only fragments
    after it (acyclic), unless `cyclic`: then each also spreads the next one, and the last
    one spreads the first."""
    count = draw(st.integers(1 if cyclic else 0, 5))
    names = [f"F{index}" for index in range(count)]
    parts = []
    for index, name in enumerate(names):
        body = draw(selections(names[index + 1 :], 2))
        if cyclic:
            body += f" ...{names[(index + 1) % count]}"
        parts.append(f"fragment {name} on Query {{ {body} }}")
    for operation in range(draw(st.integers(1, 2))):
        parts.append(f"query Q{operation} {{ {draw(selections(names, 3))} }}")
    return "\n".join(parts)


@given(documents())
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
def test_one_pass_measure_equals_the_expanded_document(text: str) -> None:
    document = parse(text)
    assert measure(document) == reference(document)


@given(documents(cyclic=True))
@settings(max_examples=100, deadline=None, derandomize=True, database=None)
def test_any_fragment_cycle_is_refused(text: str) -> None:
    document = parse(text)
    try:
        measure(document)
    except FragmentCycleError:
        pass
    else:
        raise AssertionError("a cycle was measured")
    errors = refusals(document, ShapeLimits(100, 100, 100))
    assert [error.extensions["code"] for error in errors if error.extensions] == [CYCLE_CODE]


@given(documents(), st.integers(0, 6), st.integers(0, 6), st.integers(1, 60))
@settings(max_examples=100, deadline=None, derandomize=True, database=None)
def test_refused_exactly_when_over_a_limit(
    text: str, max_depth: int, max_aliases: int, max_fields: int
) -> None:
    document = parse(text)
    shape = reference(document)
    codes = {
        error.extensions["code"]
        for error in refusals(document, ShapeLimits(max_depth, max_aliases, max_fields))
        if error.extensions
    }
    expected = {
        code
        for code, over in (
            ("QUERY_TOO_DEEP", shape.depth > max_depth),
            ("TOO_MANY_ALIASES", shape.aliases > max_aliases),
            ("QUERY_TOO_LARGE", shape.fields > max_fields),
        )
        if over
    }
    assert codes == expected


def test_forty_fragments_each_spread_twice_are_measured_in_linear_time() -> None:
    parts = ["query Explode { ...F0 }"]
    for index in range(200):
        inner = f"...F{index + 1} ...F{index + 1}" if index < 199 else "__typename"
        parts.append(f"fragment F{index} on Query {{ {inner} }}")
    assert measure(parse("\n".join(parts))).fields == 2**199
