"""Outside the quarantine (`engagement_api/fastpath/`), the code imports from libraries
only what they make public: no underscored module or name, and where a module declares
`__all__`, a name it lists. Imports made only for the type checker (`if TYPE_CHECKING:`)
are left to mypy, which CI runs against the locked versions."""

import ast
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "engagement_api"
QUARANTINE = PACKAGE / "fastpath"
DOCUMENTED = {
    # Strawberry's WebSocket docs: raise it from `on_ws_connect` to refuse a connection.
    "strawberry.exceptions.ConnectionRejectionError",
}
"""Names a library's documentation tells users to import, though its `__all__` omits them."""


def _runtime_imports(tree: ast.Module) -> Iterator[ast.ImportFrom]:
    """The `from … import …` statements that run when the module is imported."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node


def _is_library(module: str) -> bool:
    top = module.split(".")[0]
    return top != "engagement_api" and top not in sys.stdlib_module_names


def private_imports(source: str) -> list[str]:
    """Each library name `source` imports at run time that its library keeps private."""
    found = []
    for node in _runtime_imports(ast.parse(source)):
        if not _is_library(node.module or ""):
            continue
        module_name = node.module or ""
        module = importlib.import_module(module_name)
        listed = getattr(module, "__all__", None)
        for alias in node.names:
            name = alias.name
            submodule = _is_submodule(module, name)
            if any(part.startswith("_") for part in module_name.split(".")) or name.startswith("_"):
                found.append(f"{module_name}.{name} (underscored)")
            elif (
                listed is not None
                and name not in listed
                and not submodule
                and f"{module_name}.{name}" not in DOCUMENTED
            ):
                found.append(f"{module_name}.{name} (not in its __all__)")
    return found


def _is_submodule(package: ModuleType, name: str) -> bool:
    """Whether `name` is a module of `package` (imported already, or to be found)."""
    if isinstance(getattr(package, name, None), ModuleType):
        return True
    return hasattr(package, "__path__") and (
        importlib.util.find_spec(f"{package.__name__}.{name}") is not None
    )


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if QUARANTINE not in path.parents)


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_code_outside_the_quarantine_imports_only_public_names(path: Path) -> None:
    assert private_imports(path.read_text()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext",
            ["strawberry.schema.schema.StrawberryGraphQLCoreExecutionContext (not in its __all__)"],
        ),
        (
            "from strawberry.schema._graphql_core import ResultType",
            ["strawberry.schema._graphql_core.ResultType (underscored)"],
        ),
        ("from strawberry.schema.schema import Schema", []),
        ("from graphql.execution import get_argument_values", []),
        ("from strawberry import types", []),
        (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from strawberry.types.unset import UnsetType\n",
            [],
        ),
    ],
)
def test_the_check_tells_private_names_from_public_ones(source: str, expected: list[str]) -> None:
    assert private_imports(source) == expected
