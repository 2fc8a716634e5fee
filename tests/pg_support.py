"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, pg_ctl on a free port
with a private socket directory, started once per session and stopped at its end.

``scripts/test.sh`` installs Debian's PostgreSQL when its server binaries are missing; without
them the PostgreSQL half of the parametrised tests fails (it is not skipped: the backend is part
of the product)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from danvan_scoring import pg

PORTS = range(25400, 25420)   # this project's test range (25400–25499)


def server_bin(name: str) -> str:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if found:
        return found
    raise RuntimeError(f"PostgreSQL server binary {name} not found: run scripts/test.sh (apt-get install postgresql)")


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _as_owner(cmd: list[str], owner: str | None) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the folder's owner
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


class Cluster:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.sock = root / "sock"
        self.owner = "postgres" if os.geteuid() == 0 else None
        self.port = _free_port()

    def start(self) -> None:
        self.sock.mkdir(parents=True)
        if self.owner:
            shutil.chown(self.root, self.owner)
            shutil.chown(self.sock, self.owner)
        subprocess.run(_as_owner([server_bin("initdb"), "-D", str(self.data), "-U", "danvan", "-A", "trust",
                                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], self.owner),
                       check=True, capture_output=True, text=True)
        opts = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        subprocess.run(_as_owner([server_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                                  str(self.root / "server.log"), "-w", "start"], self.owner),
                       check=True, capture_output=True)

    def stop(self) -> None:
        pg.close_pools()
        subprocess.run(_as_owner([server_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                                 self.owner), capture_output=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://danvan@127.0.0.1:{self.port}/{db}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(sql)

    def create_db(self, template: str | None = None) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self.admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return name

    def drop_db(self, name: str) -> None:
        pg.close_pool(self.url(name))
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_cluster():
    # its own folder, not pytest's tmp (root-only 0700, which the server's user cannot enter)
    root = Path(tempfile.mkdtemp(prefix="danvan-pg-"))
    cluster = Cluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
