"""Issue 11, point 1, against the real `streamlit run`: a staff member uploads a 1.7 KB XLSX that
declares A1:XFD1048576 through the page's file input. The page refuses it in Vietnamese, the
server's memory stays where it was (the old reader grew ~150 MB/s until the OOM killer came),
and another visitor's session still loads."""

from __future__ import annotations

import sys
from pathlib import Path

import st_harness as h

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import test_tabular as tt  # noqa: E402


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_dimension_bomb_through_the_page_is_refused_and_the_server_stays_small(app_server, browser, tmp_path):
    ctx = h.new_context(browser)
    page = ctx.new_page()
    h.sign_in(page, app_server.url, h.ROLE_USERS["staff"])
    h.open_page(page, "nhap-du-lieu")
    before = _rss_mb(app_server.proc.pid)
    bomb = tmp_path / "bang-diem.xlsx"
    bomb.write_bytes(tt.dimension_bomb())
    assert bomb.stat().st_size < 5_000
    inp = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    h.after_rerun(page, lambda: inp.set_input_files(str(bomb)), timeout=60_000)
    h.assert_no_exception(page, "after the bomb")
    page.get_by_text("Tải báo cáo lỗi").first.wait_for(timeout=60_000)   # the refusal, its problems listed
    text = h.main_text(page)
    after = _rss_mb(app_server.proc.pid)
    ctx.close()
    assert "Xác nhận nhập" not in text
    assert after - before < 150, f"server memory {before:.0f} → {after:.0f} MB"
    other = h.new_context(browser)
    try:
        p2 = other.new_page()
        h.goto(p2, app_server.url)
        assert p2.get_by_role("button", name="Đăng nhập").count() > 0
    finally:
        other.close()
