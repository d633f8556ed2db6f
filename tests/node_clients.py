"""Runs the Node client checks in `clients/` (installed from its lockfile on first use)."""

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parent.parent / "clients"
NODE_TIMEOUT_SECONDS = 180


@functools.cache
def ensure_installed() -> None:
    """`clients/install.sh`: `npm ci` when the lockfile changed since the last install."""
    subprocess.run(["bash", str(CLIENTS / "install.sh")], check=True, timeout=900)


def run_node(script: str, *args: str) -> dict[str, Any]:
    """The JSON object the script prints last; fails the test with its output otherwise."""
    ensure_installed()
    completed = subprocess.run(
        ["node", str(CLIENTS / script), *args],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, (
        f"node {script} exited {completed.returncode}\n"
        f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
