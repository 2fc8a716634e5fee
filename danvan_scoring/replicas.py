"""Several dashboard processes on one PostgreSQL store, behind nginx (``danvan serve --replicas N``).

The processes share nothing but the store (sessions, data versions and every record live there),
so any of them can serve any browser; nginx only keeps one browser on one process, because a
Streamlit session is one websocket. The proxy's config is ``deploy/nginx-replicas.conf.template``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .errors import StoreError
from .paths import ROOT

TEMPLATE = ROOT / "deploy" / "nginx-replicas.conf.template"


def streamlit_command(port: int, address: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
            "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def nginx_config(ports: list[int], listen_port: int, address: str, prefix: Path) -> str:
    """The proxy's config: upstreams on ``ports``, listening on ``address:listen_port``."""
    # max_fails=0: a refused connection never marks a process failed. With nginx's default (1), a
    # process not yet listening at start (or restarting) was let back one connection at a time, that
    # connection counted as finished only when it closed: a websocket lives as long as its session,
    # so every new session went to the other process (tests/test_replicas.py). A process that is
    # down still costs only a refused connect: nginx passes the request to the next one.
    upstreams = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)
    text = TEMPLATE.read_text(encoding="utf-8")
    for field, value in (("PREFIX", prefix), ("UPSTREAMS", upstreams), ("PORT", listen_port),
                         ("ADDRESS", address)):
        text = text.replace(f"@{field}@", str(value))
    return text


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        raise StoreError("Không tìm thấy nginx (cài bằng: apt-get install -y nginx) để chạy nhiều tiến trình.")
    return nginx


def start_proxy(ports: list[int], listen_port: int, address: str, prefix: Path) -> subprocess.Popen:
    nginx = nginx_binary()
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(ports, listen_port, address, prefix), encoding="utf-8")
    return subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"])


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def run_replicas(n: int, port: int, address: str, env: dict) -> int:
    """Start ``n`` Streamlit processes on ``port+1 … port+n`` and nginx on ``port``; wait until one
    ends (or Ctrl+C), then stop them all."""
    ports = [port + i for i in range(1, n + 1)]
    signal.signal(signal.SIGTERM, _interrupted)   # a service manager's stop ends the children too
    procs = [subprocess.Popen(streamlit_command(p), env=env, cwd=ROOT) for p in ports]
    prefix = Path(tempfile.mkdtemp(prefix="danvan-nginx-"))
    try:
        procs.append(start_proxy(ports, port, address, prefix))
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return next(p.returncode for p in procs if p.poll() is not None) or 0
    except KeyboardInterrupt:
        return 130
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(prefix, ignore_errors=True)
