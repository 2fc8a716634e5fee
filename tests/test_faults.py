"""faults: a named point kills the process only when DANVAN_FAULT names it."""

from __future__ import annotations

import subprocess
import sys

from danvan_scoring import faults

CHILD = "from danvan_scoring import faults; faults.point('a'); faults.point('b'); print('past')"


def _run(env_value: str | None):
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env[faults.ENV] = env_value
    return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)


def test_unset_points_cost_nothing_and_do_nothing(monkeypatch):
    monkeypatch.delenv(faults.ENV, raising=False)
    faults.point("batch.after_rows")   # returns


def test_the_named_point_kills_the_process():
    got = _run("b")
    assert got.returncode == -9 and "past" not in got.stdout


def test_another_name_lets_the_process_run():
    got = _run("c")
    assert got.returncode == 0 and "past" in got.stdout
