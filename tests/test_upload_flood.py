"""Issue 11, point 3, against a real `streamlit run app.py`: a visitor who is not signed in PUTs
8 × 40 MB to /_stcore/upload_file for its live session; the server keeps none of it (before, it
kept all 320 MB until the session ended), and a signed-out visitor's page has no uploader at all
(test_app_auth.test_sign_in_page_renders_no_file_uploader)."""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
import st_harness as h  # noqa: E402

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

pytestmark = pytest.mark.slow

FILES, MB = 8, 40


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _session_id(ws) -> str:
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    ws.send(msg.SerializeToString())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fwd = ForwardMsg()
        fwd.ParseFromString(ws.recv(timeout=60))
        if fwd.WhichOneof("type") == "new_session":
            return fwd.new_session.initialize.session_id
    raise AssertionError("no new_session message")


def _put(url: str, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=body, method="PUT",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("flood")
    db = h.make_demo_db(d / "danvan.duckdb", seed=1)
    srv = h.StreamlitServer(h.ROOT / "app.py", db=db, extra_args=["--server.enableXsrfProtection", "false"],
                            log_dir=d)
    port, free_port = os.environ.get("DANVAN_TEST_PORT"), h.free_port
    if port:   # a fixed port on a shared machine
        h.free_port = lambda: int(port)   # noqa: E731
    try:
        srv.start()
    finally:
        h.free_port = free_port
    yield srv
    srv.stop()
    shutil.rmtree(d, ignore_errors=True)


def test_upload_flood_from_a_signed_out_session_is_not_kept(server):
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.port}/_stcore/stream", subprotocols=["streamlit"],
                 max_size=None, open_timeout=30) as ws:
        sid = _session_id(ws)
        time.sleep(2)   # the sign-in page's run ends
        before = _rss_mb(server.proc.pid)
        chunk = b"unit_code,score\n" + b"0" * (MB * 1024 * 1024 - 16)
        got = [_put(f"{server.url}/_stcore/upload_file/{sid}/f{i}", chunk) for i in range(FILES)]
        del chunk
        time.sleep(1)
        after = _rss_mb(server.proc.pid)
        alive = urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10).read().decode()
    assert alive.strip() == "ok"
    assert all(s in (204, 200) for s in got), got
    # kept, the eight files alone would be 320 MB; one request in flight is at most ~2 × 40 MB
    assert after - before < 2 * MB + 40, f"server memory {before:.0f} → {after:.0f} MB"
    assert "upload refused" in server.log_tail(20000)
