"""`serve --port` and `--workers` take what `PORT` and `WORKERS` take, and refuse the rest
with the same message, argparse's way (usage, one error line, exit code 2) before anything
starts: a port out of range was wrapped (73788 listened on 8252), a negative one failed
deep in Uvicorn, and 0 or -1 workers were accepted where `WORKERS=0` is refused."""

import contextlib
import io
import os
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from engagement_api.cli.main import _parser, setting_problems
from engagement_api.settings import Settings
from tests.conftest import server_command

FLAGS = {"port": "--port", "workers": "--workers"}
VALUES = st.one_of(
    st.integers(-(2**17), 2**17).map(str),
    st.sampled_from(["", "abc", "1.5", "0x50", "8000.0", "-0", "1e3", " 80", "+80"]),
)


def flag_verdict(name: str, value: str) -> str | None:
    """The flag's error message, None when `serve` takes it."""
    stderr = io.StringIO()
    code: object = None
    try:
        with contextlib.redirect_stderr(stderr):
            _parser().parse_args(["serve", FLAGS[name], value])
    except SystemExit as exit:
        code = exit.code
    if code is None:
        return None
    assert code == 2
    prefix = f"engagement-api serve: error: argument {FLAGS[name]}: "
    (line,) = [line for line in stderr.getvalue().splitlines() if line.startswith(prefix)]
    return line.removeprefix(prefix)


def setting_verdict(name: str, value: str) -> str | None:
    try:
        Settings.model_validate({name: value})
    except ValidationError as error:
        (problem,) = setting_problems(error)
        return problem.removeprefix(f"invalid setting {name.upper()}: ")
    return None


@pytest.mark.parametrize("name", FLAGS)
@given(value=VALUES)
def test_a_flag_takes_and_refuses_what_its_setting_does(name: str, value: str) -> None:
    assert flag_verdict(name, value) == setting_verdict(name, value)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--port", "73788", "Input should be less than or equal to 65535"),
        ("--port", "65536", "Input should be less than or equal to 65535"),
        ("--port", "-5", "Input should be greater than or equal to 0"),
        ("--port", "http", "Input should be a valid integer"),
        ("--workers", "0", "Input should be greater than or equal to 1"),
        ("--workers", "-1", "Input should be greater than or equal to 1"),
    ],
)
def test_serve_refuses_a_flag_out_of_range_before_starting(
    database_url: str, flag: str, value: str, message: str
) -> None:
    done = subprocess.run(
        [*server_command(), "serve", flag, value],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("usage: engagement-api serve")
    assert lines[-1].startswith(f"engagement-api serve: error: argument {flag}: {message}")


@pytest.mark.parametrize(("value", "taken"), [("1", True), ("256", True), ("257", False)])
def test_a_worker_count_is_bounded(value: str, taken: bool) -> None:
    """A mistyped count (100000) forked workers until the machine ran out of memory."""
    assert (flag_verdict("workers", value) is None) == taken
    try:
        Settings.model_validate({"workers": value})
    except ValidationError:
        assert not taken
    else:
        assert taken
