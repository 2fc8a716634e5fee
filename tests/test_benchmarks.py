"""The benchmarks still run (on tiny sizes): a benchmark that rots is found by CI, not by the
next person who needs its figures. Their numbers are not asserted here — speed lives in them."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("script, args", [
    ("bench_ingest.py", ["--rows", "20000", "--repeat", "1", "--baseline-rows", "500"]),
    ("bench_uncertainty.py", ["--draws", "50", "--loop-draws", "2", "--repeats", "1"]),
    ("bench_crosswalk.py", ["--repeat", "1"]),
    ("bench_minutes.py", ["--provinces", "42", "--limit", "5", "--pdf", "2"]),
    # a target nobody meets: --find-n stops at its first try (the search itself is exercised)
    pytest.param("bench_capacity.py", ["--sessions", "2", "--seconds", "3", "--provinces", "42", "--think", "0.2,0.5",
                                       "--find-n", "--probe", "2", "--target", "0.000001"], marks=pytest.mark.slow),
])
def test_benchmark_runs(script, args):
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True,
                       text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "Traceback" not in p.stderr, p.stderr[-2000:]
    assert "×" in p.stdout or "x" in p.stdout, p.stdout
