#!/usr/bin/env python3
"""Development commands (README, "Two commands" lists what each one needs):

    python3 dev.py serve   # install, start the server on an embedded PostgreSQL with demo data
    python3 dev.py test    # install, run the whole test suite
    python3 dev.py lint    # ruff, mypy (strict), hadolint
    python3 dev.py lock [--check]   # write (or verify) requirements*.txt from pyproject.toml
    python3 dev.py graphiql   # copy GraphiQL's browser files from the pinned npm packages

Without DATABASE_URL, serve and test use an embedded PostgreSQL (a PyPI wheel) in `.pgdata/`.
Python packages come from the hash-checked lock files only. Standard library only: this file
runs before anything is installed.
"""

import filecmp
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
CLIENTS = ROOT / "clients"
DEV_LOCK = ROOT / "requirements-dev.txt"
LOCKS = {
    # The development lock first: the production lock is resolved within it, so both hold
    # the same version of every package they share.
    DEV_LOCK: ["--extra", "otlp", "--extra", "dev"],
    ROOT / "requirements.txt": ["--extra", "otlp", "-c", "requirements-dev.txt"],
    # The build backend of pyproject's [build-system], for the image's wheel of the project.
    ROOT / "requirements-build.txt": ["-"],
}


def run(*command: str | Path, **options: object) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT, **options)  # type: ignore[call-overload]


def install_python() -> None:
    """A virtualenv with exactly the locked packages and the project (editable), reinstalled
    when the lock file or pyproject changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on any python3
        sys.exit("Python 3.11 or newer is required.")
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256()
    for path in (DEV_LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    wanted = digest.hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    pip = [BIN / "python", "-m", "pip", "install", "--quiet"]
    run(*pip, "--require-hashes", "-r", DEV_LOCK)
    run(*pip, "--no-deps", "-e", ".")
    STAMP.write_text(wanted)


def require_tool(name: str, package: str, path: str | None = None) -> None:
    """Stops at once, naming the tool and the command that installs it."""
    found = Path(path).exists() if path else shutil.which(name) is not None
    if not found:
        sys.exit(
            f"{path or name} is required and missing. Install it with:"
            f" sudo apt-get install {package}  (Debian/Ubuntu)"
        )


def install_clients() -> None:
    """The Node clients of the conformance tests: `npm ci` from the lockfile, only when the
    lockfile changed since the last install (clients/install.sh keeps a stamp)."""
    require_tool("node", "nodejs")
    require_tool("npm", "npm")
    run("bash", CLIENTS / "install.sh")


def development_environment() -> dict[str, str]:
    """The development profile (dev secret, GraphiQL, statement counts) unless set otherwise."""
    return {"ENVIRONMENT": "development", **os.environ}


GRAPHIQL_VENDOR = ROOT / "engagement_api" / "static" / "graphiql" / "vendor"
GRAPHIQL_FILES = {
    # served name: file in clients/node_modules (packages pinned exactly in package.json)
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "plugin-explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
    "plugin-explorer.css": "@graphiql/plugin-explorer/dist/style.css",
    "graphql-ws.min.js": "graphql-ws/umd/graphql-ws.min.js",
}


def graphiql(arguments: list[str]) -> int:
    """Copies GraphiQL's browser files from the pinned npm packages into the Python package,
    where the server serves them (committed, so neither a clone nor the image needs Node)."""
    install_clients()
    GRAPHIQL_VENDOR.mkdir(parents=True, exist_ok=True)
    for name, source in GRAPHIQL_FILES.items():
        shutil.copyfile(CLIENTS / "node_modules" / source, GRAPHIQL_VENDOR / name)
    return 0


def serve(arguments: list[str]) -> int:
    install_python()
    command = [str(BIN / "engagement-api"), "serve", "--demo", *arguments]
    return run_until_stopped(command)


def run_until_stopped(command: list[str]) -> int:
    """Run `command`; Ctrl-C reaches it too (same process group), so wait for it to stop
    (and stop what it started) instead of leaving with a traceback."""
    child = subprocess.Popen(command, cwd=ROOT, env=development_environment())
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def test(arguments: list[str]) -> int:
    require_tool("redis-server", "redis-server")
    require_tool("chromium", "chromium", os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    install_python()
    install_clients()
    command = [str(BIN / "pytest"), *arguments]
    return run_until_stopped(command)


def compile_lock(path: Path, options: list[str]) -> None:
    """`uv pip compile` of pyproject's dependencies, or with "-" of its build requirements."""
    source = [] if options == ["-"] else ["pyproject.toml"]
    with (ROOT / "pyproject.toml").open("rb") as pyproject:
        build_requires = "\n".join(tomllib.load(pyproject)["build-system"]["requires"])
    run(
        BIN / "uv", "pip", "compile", *source, *options, "--universal",
        "--python-version", "3.11", "--generate-hashes", "--quiet",
        "--custom-compile-command", "python3 dev.py lock", "-o", path,
        input=build_requires, text=True,
    )  # fmt: skip


def lock(arguments: list[str]) -> int:
    """Resolves pyproject.toml into the lock files, keeping the locked versions it still
    allows; with --check, fails when the files are not what that resolution writes."""
    install_python()
    if arguments != ["--check"]:
        for path, options in LOCKS.items():
            compile_lock(path, options)
        return 0
    with tempfile.TemporaryDirectory() as directory:
        stale = []
        for path, options in LOCKS.items():
            fresh = Path(directory) / path.name
            shutil.copyfile(path, fresh)
            try:
                compile_lock(fresh, options)
            except subprocess.CalledProcessError:
                stale.append(path.relative_to(ROOT))
                continue
            if not filecmp.cmp(path, fresh, shallow=False):
                stale.append(path.relative_to(ROOT))
    if stale:
        names = ", ".join(map(str, stale))
        print(f"{names}: stale for pyproject.toml; run `python3 dev.py lock`", file=sys.stderr)
        return 1
    return 0


def lint(arguments: list[str]) -> int:
    install_python()
    checks = [
        [str(BIN / "ruff"), "check", "engagement_api", "tests", "migrations", "bench", "dev.py"],
        [str(BIN / "ruff"), "format", "--check", "engagement_api", "tests", "migrations", "bench"],
        [str(BIN / "mypy"), "-p", "engagement_api", "-p", "bench", "-p", "tests"],
        [str(BIN / "hadolint"), "Dockerfile"],
    ]
    return max(subprocess.call(check, cwd=ROOT) for check in checks)


COMMANDS = {"serve": serve, "test": test, "lint": lint, "lock": lock, "graphiql": graphiql}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [arguments…]")
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
