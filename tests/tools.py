"""The programs the test suite runs besides Python, and the command that installs each.

Checked when pytest starts (conftest.py), so a missing one stops the run at once with its
name instead of failing tests one by one.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tool:
    name: str
    debian_package: str
    path: str | None = None
    """A fixed location, for a tool looked up there rather than on PATH."""

    def found(self) -> bool:
        return Path(self.path).exists() if self.path else shutil.which(self.name) is not None

    def missing_message(self) -> str:
        return (
            f"{self.path or self.name} is required by the test suite and missing. Install it"
            f" with: sudo apt-get install {self.debian_package}  (Debian/Ubuntu)"
        )


TOOLS = (
    Tool("redis-server", "redis-server"),
    Tool("node", "nodejs"),
    Tool("npm", "npm"),
    Tool("chromium", "chromium", os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")),
)


def missing_tools() -> list[Tool]:
    return [tool for tool in TOOLS if not tool.found()]
