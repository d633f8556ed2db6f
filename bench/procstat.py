"""CPU time and resident memory of processes, read from /proc."""

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def rss_bytes(pid: int) -> int:
    fields = _stat_fields(pid)
    return 0 if fields is None else int(fields[21]) * PAGE  # rss (field 24), in pages


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (uvicorn's workers and their helpers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        kids = parents.get(pending.pop(), [])
        found += kids
        pending += kids
    return found


@dataclass
class CpuWindow:
    """CPU seconds a set of processes spent between `start()` and `stop()`."""

    before: dict[int, float]

    @classmethod
    def start(cls, pids: Iterable[int]) -> "CpuWindow":
        return cls({pid: cpu_seconds(pid) for pid in pids})

    def stop(self, pids: Iterable[int]) -> float:
        """Processes that appeared during the window count from zero."""
        return sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in set(pids))
