"""pages/widgets.py: the session cookie's script (issue 11, point 8)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from pages.widgets import cookie_script

NODE = shutil.which("node")   # scripts/test.sh installs Debian's nodejs when missing


def _cookie_set_on(protocol: str, script_html: str) -> str:
    assert NODE, "node is needed to run the page script: bash scripts/test.sh installs it"
    body = re.fullmatch(r"<script>(.*)</script>", script_html, re.S)[1]
    js = ("const window = {parent: {document: {cookie: ''}, location: {protocol: %s}}};\n%s\n"
          "console.log(window.parent.document.cookie);" % (json.dumps(protocol), body))
    return subprocess.run([NODE, "-e", js], capture_output=True, text=True, timeout=30, check=True).stdout.strip()


def test_cookie_is_secure_over_https_and_samesite_always():
    html = cookie_script("danvan_session", "abc", 3600)
    assert _cookie_set_on("https:", html) == "danvan_session=abc; path=/; max-age=3600; SameSite=Lax; Secure"
    assert _cookie_set_on("http:", html) == "danvan_session=abc; path=/; max-age=3600; SameSite=Lax"


def test_deleting_the_cookie_expires_it():
    assert _cookie_set_on("https:", cookie_script("danvan_session", None, 3600)) == (
        "danvan_session=; path=/; max-age=0; SameSite=Lax; Secure")
