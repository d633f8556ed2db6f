"""The README's table of development commands lists every command `dev.py` has."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dev_commands() -> set[str]:
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    return set(dev.COMMANDS)


def test_readme_lists_every_dev_command() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Two commands") : readme.index("### Dependencies")]
    listed = set(re.findall(r"^\| `python3 dev\.py (\w+)", table, flags=re.MULTILINE))
    assert listed == dev_commands()
