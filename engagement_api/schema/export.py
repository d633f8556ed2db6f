"""Export the served SDL (`engagement-api export-schema`), checked in as `schema.graphql`."""

from pathlib import Path

from engagement_api.schema.schema import schema


def served_sdl() -> str:
    return schema.as_str() + "\n"


def export_schema(output: str) -> int:
    Path(output).write_text(served_sdl(), encoding="utf-8")
    print(f"wrote {output}")
    return 0
