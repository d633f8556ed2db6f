"""A server of several workers without `PROMETHEUS_MULTIPROC_DIR` says once, at start, that
a scrape of /metrics reports one worker only; with the directory, or one worker, it does
not."""

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
    directory = None  # unset for the server, whatever the run's environment holds
    if multiprocess:
        (tmp_path / "metrics").mkdir()
        directory = str(tmp_path / "metrics")
    log = tmp_path / "server.log"
    running = start_server(
        database_url, str(log), WORKERS=workers, PROMETHEUS_MULTIPROC_DIR=directory
    )
    stop_server(running)
    assert log.read_text().count(WARNING) == warnings
