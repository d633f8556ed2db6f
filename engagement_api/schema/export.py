"""Export the served SDL (`engagement-api export-schema`), checked in as `schema.graphql`."""

import sys
from pathlib import Path

from engagement_api.schema.schema import schema


def served_sdl() -> str:
    return schema.as_str() + "\n"


def export_schema(output: str) -> int:
    """Write the SDL to `output` (`-`: standard output); 1 with a message if it cannot."""
    if output == "-":
        sys.stdout.write(served_sdl())
        return 0
    try:
        Path(output).write_text(served_sdl(), encoding="utf-8")
    except OSError as error:
        print(f"engagement-api: cannot write {output}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {output}")
    return 0
