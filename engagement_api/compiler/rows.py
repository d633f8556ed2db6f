"""A selection plan's result dicts built by a function generated for it: one loop over the
level's rows, each field read, checked and coerced inline, the dict made as a literal.

The function takes the ordinary case only. A row with anything else (a null for a non-null
field, a value of another class than the leaf passes through, an error, an attribute that
raises) goes to `slow(row)`, which completes it field by field and reports what is wrong,
exactly as stock execution does. It is used only for levels whose child levels completed
without a nulled object (see `execute.Execution._build`).
"""

import keyword
from collections.abc import Callable
from typing import Any

from engagement_api.compiler.plan import READ, TYPENAME, FieldPlan, SelectionPlan

RowBuilder = Callable[
    [list[Any], dict[int, list[Any]], dict[int, list[Any]], dict[int, list[Any]], Any],
    list[Any],
]


class _UnusualValueError(Exception):
    """A value the generated code does not complete: the row is completed the general way."""


def row_builder(plan: SelectionPlan) -> RowBuilder | None:
    """The generated builder of `plan`'s rows, or None when a field needs the general way
    (a list of leaves, an interface, an attribute that is no identifier)."""
    names: dict[str, Any] = {"_UnusualValueError": _UnusualValueError}
    body: list[str] = []
    items: list[str] = []
    for field in plan.fields:
        lines = _field_code(field, names)
        if lines is None:
            return None
        body += lines
        value = f"t{field.index}" if field.how == TYPENAME else f"v{field.index}"
        items.append(f"{field.key!r}: {value}")
    bindings = [f"    c{f.index} = columns[{f.index}]" for f in plan.calls if f.is_leaf]
    for field in plan.objects:
        bindings.append(f"    s{field.index} = shapes[{field.index}]")
        bindings.append(f"    r{field.index} = results[{field.index}][0]")
    source = "\n".join(
        [
            "def build(sources, columns, shapes, results, slow):",
            *bindings,
            "    out = []",
            "    append = out.append",
            "    row = -1",
            "    for src in sources:",
            "        row += 1",
            "        try:",
            *(f"            {line}" for line in body or ["pass"]),
            "        except Exception:",
            "            append(slow(row))",
            "            continue",
            f"        append({{{', '.join(items)}}})",
            "    return out",
        ]
    )
    try:
        exec(compile(source, f"<rows of {plan.object_type.name}>", "exec"), names)
    except SyntaxError:  # a name the generator did not foresee: the general way builds them
        return None
    builder: RowBuilder = names["build"]
    return builder


def _field_code(field: FieldPlan, names: dict[str, Any]) -> list[str] | None:
    index = field.index
    value = f"v{index}"
    if field.how == TYPENAME:
        names[f"t{index}"] = field.typename
        return []
    if field.interface is not None or (field.is_leaf and field.is_list):
        return None
    if field.variants:
        return _object_code(field, value)
    if field.how == READ:
        attribute = field.attribute
        if not attribute.isidentifier() or keyword.iskeyword(attribute):
            return None
        lines = [f"{value} = src.{attribute}"]
    else:
        lines = [f"{value} = c{index}[row]"]
    coerce = _leaf_code(field, value, names)
    if field.non_null:
        return [*lines, f"if {value} is None: raise _UnusualValueError", *coerce]
    if not coerce:
        return lines
    return [*lines, f"if {value} is not None:", *(f"    {line}" for line in coerce)]


def _leaf_code(field: FieldPlan, value: str, names: dict[str, Any]) -> list[str]:
    index = field.index
    if field.passthrough is not None:
        names[f"P{index}"] = field.passthrough
        return [f"if {value}.__class__ is not P{index}: raise _UnusualValueError"]
    if field.is_int:
        return [
            f"if {value}.__class__ is not int or not -2147483648 <= {value} <= 2147483647:",
            "    raise _UnusualValueError",
        ]
    if field.enum_class is not None:
        names[f"C{index}"] = field.enum_class
        names[f"E{index}"] = field.enum_names
        return [
            f"if {value}.__class__ is not C{index}: raise _UnusualValueError",
            f"{value} = E{index}[{value}]",
        ]
    names[f"K{index}"] = field.coerce
    coerce = f"{value} = K{index}({value})"
    if field.written_by_encoder is not None:  # left as it is for the encoder (`leaves.py`)
        names[f"W{index}"], names[f"Z{index}"] = field.written_by_encoder
        coerce = f"if {value}.__class__ is not W{index} or {value}.tzinfo is not Z{index}: {coerce}"
    if field.how == READ:
        return [coerce]
    names["BaseException"] = BaseException  # a resolver's error is no value to coerce
    return [
        f"if isinstance({value}, BaseException): raise _UnusualValueError",
        coerce,
    ]


def _object_code(field: FieldPlan, value: str) -> list[str]:
    """The row's entry in the field's shape: an index into the completed child level (a
    list of them for a list field); anything else is unusual (`rows` indexes raise)."""
    index = field.index
    entry = f"e{index}"
    if field.is_list:
        complete = [
            f"if {entry}.__class__ is slice: {value} = r{index}[{entry}]",
            f"elif {entry}.__class__ is list: {value} = [r{index}[i] for i in {entry}]",
            "else: raise _UnusualValueError",
        ]
    else:
        complete = [
            f"if {entry}.__class__ is not int: raise _UnusualValueError",
            f"{value} = r{index}[{entry}]",
        ]
    lines = [f"{entry} = s{index}[row]"]
    if field.non_null:
        return lines + complete
    return [
        *lines,
        f"if {entry} is None:",
        f"    {value} = None",
        "else:",
        *(f"    {line}" for line in complete),
    ]
