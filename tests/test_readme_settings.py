"""The README's configuration table names exactly the settings the code reads."""

import re
from pathlib import Path

from engagement_api.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_variables() -> set[str]:
    text = README.read_text()
    table = text[text.index("## Configuration") : text.index("## Endpoints")]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}


def test_readme_configuration_table_matches_settings() -> None:
    assert documented_variables() == {name.upper() for name in Settings.model_fields}
