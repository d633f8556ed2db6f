"""A server of several workers without `PROMETHEUS_MULTIPROC_DIR` says once, at start, that
a scrape of /metrics reports one worker only; with the directory, or one worker, it does
not."""

import os
from pathlib import Path

import pytest

from tests.conftest import start_server, stop_server

WARNING = "no PROMETHEUS_MULTIPROC_DIR"


@pytest.mark.parametrize(
    ("workers", "multiprocess", "warnings"),
    [("2", False, 1), ("2", True, 0), ("1", False, 0)],
    ids=["two-workers", "two-workers-with-the-directory", "one-worker"],
)
def test_the_start_warns_once_when_metrics_would_show_one_worker(
    database_url: str, tmp_path: Path, workers: str, multiprocess: bool, warnings: int
) -> None:
    environment = {"WORKERS": workers}
    if multiprocess:
        (tmp_path / "metrics").mkdir()
        environment["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    elif "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        pytest.skip("PROMETHEUS_MULTIPROC_DIR is set for the whole run")
    log = tmp_path / "server.log"
    running = start_server(database_url, str(log), **environment)
    stop_server(running)
    assert log.read_text().count(WARNING) == warnings
