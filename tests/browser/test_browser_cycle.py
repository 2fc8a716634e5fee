"""A unit account in a real browser through the cycle: self-score, upload a PDF, submit; after the
appraisal (library, server stopped) it sees the reason and files an objection.

The database moves between two states the browser cannot cause on its own (the appraisal team and
the chair act through the library here), so this module stops its server between the two halves."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
import st_harness as h
from conftest import APP

from danvan_scoring import appraisal, auth, dossier, evidence, lifecycle, objections, store
from danvan_scoring.permissions import CLI_ACTOR, Actor

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
REASON = "Chỉ có 3 biên bản đối thoại hợp lệ"
PORTS = iter(range(8612, 8620))          # this suite's own ports


@pytest.fixture(scope="module")
def cycle_db(demo_db_file, tmp_path_factory):
    d = tmp_path_factory.mktemp("browser-cycle")
    db = d / "danvan.duckdb"
    shutil.copy(demo_db_file, db)
    con = store.connect(db)
    name, code = next(iter(auth.demo_unit_accounts(con).items()))
    lifecycle.advance(con, "2025", actor=CLI_ACTOR, deadline=date.today() + timedelta(days=7))
    con.close()
    return db, name, code, d / "evidence"


def _server(db, ev, monkeypatch):
    monkeypatch.setattr(h, "free_port", lambda: next(PORTS))
    return h.StreamlitServer(APP, db=db, log_dir=h.ARTIFACTS / "logs", env={"DANVAN_EVIDENCE_DIR": str(ev)})


def test_a_unit_account_walks_its_dossier_through_the_cycle(cycle_db, browser, tmp_path, monkeypatch):
    db, name, code, ev = cycle_db
    monkeypatch.setenv("DANVAN_EVIDENCE_DIR", str(ev))      # the test reads the files the server stored
    pdf = tmp_path / "bien-ban-doi-thoai.pdf"
    pdf.write_bytes(PDF)
    srv = _server(db, ev, monkeypatch).start()
    try:
        page = h.new_context(browser).new_page()
        h.sign_in(page, srv.url, name)
        h.open_page(page, "tu-danh-gia")
        h.assert_no_exception(page, "dossier page")
        page.locator(".st-key-dos_v_A3 input").fill("4")
        page.locator(".st-key-dos_f_A1 [data-testid='stFileUploaderDropzoneInput']").set_input_files(str(pdf))
        page.locator(".st-key-dos_f_A1").get_by_text("thoai.pdf").first.wait_for()   # the name is shortened
        h.after_rerun(page, lambda: page.get_by_role("button", name="Lưu điểm tự chấm và minh chứng").click(),
                      timeout=60_000)
        h.assert_no_exception(page, "after saving")
        h.screenshot(page, "cycle-1-saved")
        h.after_rerun(page, lambda: page.get_by_role("button", name="Nộp hồ sơ").click(), timeout=60_000)
        page.get_by_text("Đã nộp hồ sơ").first.wait_for()
        h.screenshot(page, "cycle-2-submitted")
    finally:
        srv.stop()

    con = store.connect(db)
    me = Actor(name, "unit", unit_code=code)
    d = dossier.dossier(con, "2025", code, actor=me).set_index("criterion_code")
    assert d.loc["A3", "self_value"] == 4 and d.loc["A1", "files"] == 1
    row, data = evidence.get(con, evidence.list_files(con, "2025", code)["evidence_id"].iloc[0])
    assert data == PDF and row["mime"] == "application/pdf"
    assert lifecycle.submission(con, "2025", code)
    lifecycle.advance(con, "2025", actor=CLI_ACTOR)
    appraisal.appraise(con, "2025", code, "A3", actor=CLI_ACTOR, value=3, reason=REASON)
    lifecycle.advance(con, "2025", actor=CLI_ACTOR)
    lifecycle.advance(con, "2025", actor=CLI_ACTOR, deadline=date.today() + timedelta(days=10))
    con.close()

    srv = _server(db, ev, monkeypatch).start()
    try:
        page = h.new_context(browser).new_page()
        h.sign_in(page, srv.url, name)
        h.open_page(page, "tu-danh-gia")
        page.get_by_text(REASON).first.wait_for()
        save = page.get_by_role("button", name="Lưu điểm tự chấm và minh chứng")
        assert save.is_disabled()
        page.locator(".st-key-dos_obj_text textarea").fill("Đơn vị có đủ 5 biên bản, gửi kèm bản chụp")
        h.after_rerun(page, lambda: page.get_by_role("button", name="Gửi kiến nghị").click(), timeout=60_000)
        h.assert_no_exception(page, "after objecting")
        h.screenshot(page, "cycle-3-objected")
    finally:
        srv.stop()
    con = store.connect(db)
    filed = objections.list_objections(con, "2025", code)
    con.close()
    assert filed["text"].tolist() == ["Đơn vị có đủ 5 biên bản, gửi kèm bản chụp"]
