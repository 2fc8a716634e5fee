"""``danvan serve --replicas N``: the Streamlit command line and the nginx config in front of the
processes (websocket upgrade, sticky route cookie, every upstream), checked by nginx itself."""

from __future__ import annotations

import subprocess

from danvan_scoring import replicas


def test_streamlit_command_runs_the_app_headless_on_the_port():
    cmd = replicas.streamlit_command(25431, "127.0.0.1")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app.py")
    assert cmd[cmd.index("--server.port") + 1] == "25431"
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_nginx_config_lists_every_upstream_upgrades_websockets_and_pins_a_browser(tmp_path):
    conf = replicas.nginx_config([25431, 25432, 25433], 25430, "127.0.0.1", tmp_path)
    for port in (25431, 25432, 25433):
        assert f"server 127.0.0.1:{port};" in conf
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
