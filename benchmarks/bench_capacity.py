"""Capacity without browsers (issue 14): simulated sessions speak Streamlit's own websocket protocol.

    .venv/bin/python benchmarks/bench_capacity.py [--sessions 100] [--seconds 60] [--think 2,6]
    .venv/bin/python benchmarks/bench_capacity.py --sessions 5 --seconds 10 --provinces 42   # a quick check

One run, same data (by default all 3,321 communes × 3 demo periods), three configurations:
DuckDB with one Streamlit process (the baseline); PostgreSQL with one process; PostgreSQL with
two processes behind nginx (``danvan serve --replicas 2``). PostgreSQL is a throwaway cluster
(tests/pg_support.py) on this machine. Each simulated session (``benchmarks/st_client.py``) carries
a session cookie of a leader, council or unit account, opens the overview, then loops until the
deadline: open the ranking, change the period (a filter), open a unit's profile, pausing a random
think time between steps. Sessions arrive at random over the first ``--ramp`` seconds (6: the longest
think time), as users do; each process has first opened every page for every period once (its
period caches built), so the figures are the steady state, not the seconds after a start.
Reported per configuration: p50/p95/max of "rerun requested → script
finished and all deltas received", errors (an exception element, an error box, a timeout) and
reruns per second, the server's CPU time per rerun (all its processes, nginx included), with the p95
as a ratio to the baseline measured in the same run. ``--find-n`` also finds, per configuration,
the largest number of sessions that keeps p95 ≤ ``--target`` (1 s) with no error.
Ports 25470–25479. Exit status 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ui import pct  # noqa: E402
from pg_support import Cluster  # noqa: E402
from st_client import Session  # noqa: E402

from danvan_scoring import auth, bootstrap, demo, store  # noqa: E402
from danvan_scoring import units as unit_store  # noqa: E402
from danvan_scoring.permissions import Actor  # noqa: E402

PORT = 25470


def build(target, provinces) -> tuple[list[str], list[str]]:
    """Demo data in the store; session tokens for leader/council/unit accounts, and unit codes."""
    con = store.connect(target, create=True)
    bootstrap.init_connection(con)
    if provinces is None:   # all of them (fill_demo alone scores its two demo provinces)
        provinces = sorted(unit_store.provinces(con)["province_code"])
    demo.fill_demo(con, seed=2025, provinces=provinces, cycle=True)
    units = [r[0] for r in con.execute(
        "SELECT DISTINCT e.unit_code FROM score_entries e JOIN units u USING (unit_code) "
        "WHERE u.unit_type <> 'co_quan' ORDER BY e.unit_code").fetchall()]   # scored units of today
    unit_accounts = list(auth.demo_unit_accounts(con).items())[:20]
    actors = [Actor("lanhdao", "leader"), Actor("hoidong", "council")]
    actors += [Actor(name, "unit", unit_code=code) for name, code in unit_accounts]
    tokens = [auth.create_session(con, a) for a in actors]
    periods = [r[0] for r in con.execute("SELECT period FROM periods ORDER BY period").fetchall()]
    con.close()
    return tokens, units, periods


def wait_healthy(port: int, seconds: float = 300) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"port {port} did not answer")


async def one_session(port, token, units, periods, deadline, think, out, rng, ramp=0.0) -> None:
    s = Session(f"http://127.0.0.1:{port}", token)
    try:
        await asyncio.sleep(rng.uniform(0, ramp))   # sessions arrive over the first ``ramp`` seconds
        await s.connect()
        first = await s.rerun(page="")
        out["times"].append(first.seconds)   # opening the overview counts too (it may be all a slow run does)
        if "Đăng nhập" in first.texts[:1]:
            out["errors"] += 1
            out.setdefault("why", []).append("not signed in")
            return
        while time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(*think))
            step = rng.choice(("ranking", "filter", "profile"))
            if step == "ranking":
                run = await s.rerun(page="xep-hang")
            elif step == "filter":
                run = await s.rerun(page="xep-hang", query=f"period={rng.choice(periods)}")
            else:
                run = await s.rerun(page="ho-so", query=f"unit={rng.choice(units)}")
            out["times"].append(run.seconds)
            out["errors"] += bool(run.exceptions)
    except (asyncio.TimeoutError, OSError, Exception) as exc:  # noqa: BLE001 (any failure counts)
        out["errors"] += 1
        out.setdefault("why", []).append(type(exc).__name__)
    finally:
        await s.close()


async def drive(port, tokens, units, periods, sessions, seconds, think, ramp=0.0) -> dict:
    out = {"times": [], "errors": 0}
    deadline = time.monotonic() + seconds
    rng = random.Random(14)
    await asyncio.gather(*(one_session(port, tokens[i % len(tokens)], units, periods, deadline, think, out,
                                       random.Random(rng.random()), ramp) for i in range(sessions)))
    out["seconds"] = seconds
    return out


async def warm(port, token, units, periods) -> None:
    """One session straight to one process (not through nginx): every page of the run for every
    period, so the measurement sees a process whose period caches are built (steady state), not
    the first few seconds after a start."""
    s = Session(f"http://127.0.0.1:{port}", token)
    await s.connect()
    try:
        await s.rerun(page="")
        for period in periods:
            await s.rerun(page="xep-hang", query=f"period={period}")
            await s.rerun(page="ho-so", query=f"unit={units[0]}&period={period}")
    finally:
        await s.close()


def serving(target, replicas):
    """``danvan serve`` on ``target`` with ``replicas`` processes (and nginx in front of several)."""
    cmd = [sys.executable, "-m", "danvan_scoring.cli", "serve", "--db", str(target), "--port", str(PORT),
           "--replicas", str(replicas)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants (Linux /proc)."""
    parent, cpu = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(stat.parent.name)
        parent[p], cpu[p] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, todo = set(), [pid]
    while todo:
        p = todo.pop()
        tree.add(p)
        todo += [c for c, pp in parent.items() if pp == p and c not in tree]
    return sum(cpu.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def measure(name, target, replicas, tokens, units, periods, args) -> dict:
    """One configuration: ``args.sessions`` sessions for ``args.seconds``; with ``args.find_n`` also
    the largest number of sessions whose p95 stays within ``args.target`` seconds with no error
    (doubling from 2, then halving the gap twice; ``args.probe`` seconds per try)."""
    proc = serving(target, replicas)
    try:
        for p in ([PORT] if replicas == 1 else [PORT + i for i in range(replicas + 1)]):
            wait_healthy(p)
        for p in ([PORT] if replicas == 1 else [PORT + i for i in range(1, replicas + 1)]):
            asyncio.run(warm(p, tokens[0], units, periods))   # each process's period caches
        cpu0 = tree_cpu(proc.pid)
        res = asyncio.run(drive(PORT, tokens, units, periods, args.sessions, args.seconds, args.think,
                                args.ramp))
        res["cpu_per_rerun"] = (tree_cpu(proc.pid) - cpu0) / max(len(res["times"]), 1)
        if args.find_n:
            res["largest_n"] = largest_n(lambda n: asyncio.run(
                drive(PORT, tokens, units, periods, n, args.probe, args.think, args.ramp)), args.target)
    finally:
        stop(proc)
    res["name"] = name
    return res


def largest_n(run, target: float) -> int:
    """The largest n for which ``run(n)`` keeps p95 ≤ target with no error (0 if even 2 does not)."""
    def ok(n):
        r = run(n)
        return not r["errors"] and pct(r["times"], 0.95) <= target
    good, bad = 0, None
    n = 2
    while bad is None and n <= 400:
        if ok(n):
            good, n = n, n * 2
        else:
            bad = n
    if bad is None:
        return good
    for _ in range(2):
        mid = (good + bad) // 2
        if mid in (good, bad) or mid < 2:
            break
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", default="2,6", help="MIN,MAX seconds between steps")
    ap.add_argument("--ramp", type=float, default=6.0,
                    help="sessions arrive at random over the first RAMP seconds (default 6, the longest "
                         "think time), as users do, instead of all at the same instant")
    ap.add_argument("--provinces", default="*", help="comma-separated province codes, or * for all")
    ap.add_argument("--find-n", action="store_true",
                    help="also find, per configuration, the largest number of sessions with p95 ≤ --target")
    ap.add_argument("--target", type=float, default=1.0, help="p95 target in seconds (default 1)")
    ap.add_argument("--probe", type=float, default=30, help="seconds per try of --find-n (default 30)")
    args = ap.parse_args()
    args.think = tuple(float(x) for x in args.think.split(","))
    provinces = None if args.provinces == "*" else args.provinces.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="danvan-cap-"))
    duck = tmp / "cap.duckdb"
    tokens_d, units, periods = build(duck, provinces)
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="danvan-pg-")))
    cluster.start()
    rows = []
    try:
        cluster.admin("CREATE DATABASE cap")
        url = cluster.url("cap")
        tokens_p, _, _ = build(url, provinces)
        rows.append(measure("DuckDB, 1 tiến trình", duck, 1, tokens_d, units, periods, args))
        rows.append(measure("PostgreSQL, 1 tiến trình", url, 1, tokens_p, units, periods, args))
        rows.append(measure("PostgreSQL, 2 tiến trình + nginx", url, 2, tokens_p, units, periods, args))
    finally:
        cluster.stop()
    base = pct(rows[0]["times"], 0.95)
    print(f"{args.sessions} phiên (đến dần trong {args.ramp:g} s đầu), nghỉ {args.think[0]:g}–{args.think[1]:g} s, "
          f"{args.seconds:g} s, "
          f"{len(units)} đơn vị được chấm × {len(periods)} kỳ")
    print(f"{'cấu hình':34} {'p50':>7} {'p95':>7} {'max':>7} {'lỗi':>5} {'lượt/s':>7} {'CPU/lượt':>9} "
          f"{'p95 ÷ DuckDB':>12}"
          + (f" {'N lớn nhất (p95 ≤ ' + format(args.target, 'g') + ' s)':>24}" if args.find_n else ""))
    for r in rows:
        t = r["times"]
        print(f"{r['name']:34} {pct(t, .5):7.3f} {pct(t, .95):7.3f} {max(t, default=float('nan')):7.3f} "
              f"{r['errors']:5d} {len(t) / r['seconds']:7.2f} {1000 * r['cpu_per_rerun']:6.0f} ms "
              f"{pct(t, .95) / base:11.2f}×"
              + (f" {r['largest_n']:24d}" if args.find_n else "")
              + (f"  ({', '.join(sorted(set(r['why'])))})" if r.get("why") else ""))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
