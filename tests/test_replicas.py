"""``danvan serve --replicas N``: the Streamlit command line and the nginx config in front of the
processes (websocket upgrade, sticky route cookie, every upstream), checked by nginx itself."""

from __future__ import annotations

import subprocess

import pytest

from danvan_scoring import replicas


def test_streamlit_command_runs_the_app_headless_on_the_port():
    cmd = replicas.streamlit_command(25431, "127.0.0.1")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app.py")
    assert cmd[cmd.index("--server.port") + 1] == "25431"
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_nginx_config_lists_every_upstream_upgrades_websockets_and_pins_a_browser(tmp_path):
    conf = replicas.nginx_config([25431, 25432, 25433], 25430, "127.0.0.1", tmp_path)
    for port in (25431, 25432, 25433):
        assert f"server 127.0.0.1:{port} max_fails=0;" in conf
    assert "listen 127.0.0.1:25430;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "hash $danvan_route consistent;" in conf and "danvan_route=$request_id" in conf
    assert "@" not in conf.split("\n", 2)[2]   # no template field left unfilled (past the header comment)


def test_nginx_accepts_the_config(tmp_path):
    nginx = replicas.nginx_binary()
    conf = tmp_path / "nginx.conf"
    conf.write_text(replicas.nginx_config([25431, 25432], 25430, "127.0.0.1", tmp_path), encoding="utf-8")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


SIGNED_IN = "**Lãnh đạo** · lanhdao"


def _wait_healthy(port: int, proc, seconds: float = 180) -> None:
    import time
    import urllib.request

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert proc.poll() is None, "danvan serve ended before its processes answered"
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"port {port} never answered /_stcore/health")


def _first_run_texts(port: int, token: str | None, page: str = "", query: str = "") -> list[str]:
    import asyncio
    import concurrent.futures
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from st_client import Session

    async def go():
        s = Session(f"http://127.0.0.1:{port}", token)
        await s.connect()
        try:
            run = await s.rerun(page="")
            if page:
                run = await s.rerun(page=page, query=query)
        finally:
            await s.close()
        assert not run.exceptions, run.exceptions
        return run.texts
    # in a thread of its own: Playwright's sync API (the browser tests, same session) keeps an event
    # loop running in this one, where asyncio.run refuses to start another
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def _change_one_score(con) -> tuple[str, str, float, float]:
    """Set one appraised score of a ranked unit to 0 with a score file: (unit, period, total before, after)."""
    from danvan_scoring import ingest, results
    from danvan_scoring import periods as period_store
    from danvan_scoring.permissions import CLI_ACTOR

    period = period_store.periods(con)[-1]
    before = results.period_results(con, period, with_previous=False).set_index("unit_code")
    sc = results.period_scores(con, period)
    typed = [c.code for c in period_store.framework_for_period(con, period).criteria.values() if not c.derived]
    row = sc[(sc["stage"] == "appraised") & (sc["value"] > 0) & sc["criterion_code"].isin(typed) & sc["unit_code"].isin(
        before.index[before["total"].notna()])].iloc[0]
    csv = f"unit_code,period,criterion_code,score,stage\n{row.unit_code},{period},{row.criterion_code},0,appraised\n"
    res = ingest.import_file(con, csv.encode(), "mot-diem.csv", actor=CLI_ACTOR)
    assert res.changed == 1, res
    after = results.period_results(con, period, with_previous=False).set_index("unit_code")
    return row.unit_code, period, float(before.loc[row.unit_code, "total"]), float(after.loc[row.unit_code, "total"])


@pytest.mark.slow
def test_two_replicas_behind_nginx_serve_one_signed_in_session_and_see_each_others_writes(pg_cluster, pg_templates):
    """`danvan serve --replicas 2` on one PostgreSQL: a session created after the servers started (a
    write by a third process) is signed in on either process and through nginx; signing it out
    (another write) shows the sign-in page on the next rerun of each; a score changed by that third
    process shows in the profile each replica serves next."""
    import signal
    import sys

    from danvan_scoring import auth, store
    from danvan_scoring.paths import ROOT
    from danvan_scoring.permissions import Actor
    from pages.formatting import vn

    name = pg_cluster.create_db(pg_templates["demo"])
    url = pg_cluster.url(name)
    port = 25460
    proc = subprocess.Popen([sys.executable, "-m", "danvan_scoring.cli", "serve", "--replicas", "2",
                             "--port", str(port), "--db", url], cwd=ROOT)
    try:
        for p in (port + 1, port + 2, port):
            _wait_healthy(p, proc)
        con = store.connect(url)
        token = auth.create_session(con, Actor("lanhdao", "leader"))
        for p in (port + 1, port + 2, port):
            assert SIGNED_IN in _first_run_texts(p, token), p
        assert "Đăng nhập" in _first_run_texts(port + 1, None)
        # a score written by this (third) process shows in the profile a replica serves next
        unit, period, old_total, new_total = _change_one_score(con)
        query = f"unit={unit}&period={period}"
        for p in (port + 1, port + 2):
            assert f"Tổng điểm: {vn(new_total)}" in _first_run_texts(p, token, "ho-so", query), p
        assert vn(old_total) != vn(new_total)
        auth.end_session(con, token)
        con.close()
        for p in (port + 1, port + 2):
            texts = _first_run_texts(p, token)
            assert SIGNED_IN not in texts and "Đăng nhập" in texts, p
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        pg_cluster.drop_db(name)


def test_nginx_spreads_new_sessions_over_both_processes_after_one_was_down_at_start(tmp_path):
    """A process not yet listening when nginx starts (or restarting later) must not leave every new
    session on the other one. With nginx's default max_fails=1, the refused connection marked the
    upstream failed, and a failed upstream is let back one connection at a time, counted as done when
    that connection ends: the first websocket through it lives as long as its session, so 99 of 100
    new sessions went to the other process (seen in benchmarks/bench_capacity.py, 8 Dec 2026); and
    with both marked failed, clients retrying every 0.2 s got "no live upstreams" (502) for 30 s
    after the processes were up (this test, before the fix).
    Real nginx with the shipped config in front of two small websocket servers."""
    import asyncio
    import concurrent.futures
    import socket
    import threading
    import time
    import urllib.error
    import urllib.request

    import websockets
    from websockets.asyncio.server import serve

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    listen, ports = free_port(), [free_port(), free_port()]
    proxy = replicas.start_proxy(ports, listen, "127.0.0.1", tmp_path / "nginx")
    seen = {p: 0 for p in ports}
    stop = threading.Event()

    async def backends():
        async def handler(ws, port):
            seen[port] += 1
            await ws.wait_closed()

        servers = [await serve(lambda ws, p=p: handler(ws, p), "127.0.0.1", p) for p in ports]
        while not stop.is_set():
            await asyncio.sleep(0.05)
        for s in servers:
            s.close()

    async def sessions(n: int):
        conns, end = [], time.monotonic() + 30
        while len(conns) < n:   # as a client does: retry while the proxy still answers 502
            try:
                conns.append(await websockets.connect(f"ws://127.0.0.1:{listen}/_stcore/stream"))
            except websockets.InvalidStatus:
                assert time.monotonic() < end, "the proxy never reached a process"
                await asyncio.sleep(0.2)
        await asyncio.sleep(0.2)
        for c in conns:
            await c.close()

    thread = None
    try:
        end = time.monotonic() + 10
        while True:   # nginx is up, no process is: the health check fails at the proxy (502)
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{listen}/_stcore/health", timeout=2)
            except urllib.error.HTTPError as exc:
                assert exc.code == 502
                break
            except OSError:
                assert time.monotonic() < end, "nginx did not start"
                time.sleep(0.1)
        thread = threading.Thread(target=asyncio.run, args=(backends(),), daemon=True)
        thread.start()
        time.sleep(0.5)
        # in a thread of its own: Playwright's sync API (the browser tests, same session) keeps an
        # event loop running in this one, where asyncio.run refuses to start another
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, sessions(40)).result(60)   # its assertion errors reach this test
        assert sum(seen.values()) == 40
        assert min(seen.values()) >= 8, seen   # a fair coin: P(fewer than 8 of 40) < 1e-4
    finally:
        stop.set()
        if thread:
            thread.join(5)
        proxy.terminate()
        proxy.wait(10)
