"""The annual cycle on the dashboard (AppTest): a unit account's dossier, the council's progress
view, the appraiser's walk-through; controls the period's state refuses are disabled with the
library's reason."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
from apptest_support import button, danvan_db_env
from cycle_support import PDF
from streamlit.testing.v1 import AppTest
from test_app_pages import APP, sign_in

from danvan_scoring import auth, demo, dossier, evidence, lifecycle, objections, store, units
from danvan_scoring.permissions import CLI_ACTOR


@pytest.fixture(scope="module")
def cycle_db(tmp_path_factory, demo_db_template):
    import os

    base = tmp_path_factory.mktemp("cycle")
    old = os.environ.get("DANVAN_EVIDENCE_DIR")
    os.environ["DANVAN_EVIDENCE_DIR"] = str(base / "evidence")      # never the repository's data/
    path = base / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    con = store.connect(path)
    u = units.units(con)
    codes = u.loc[u["province_code"].isin(demo.DEMO_PROVINCES), "unit_code"].tolist()
    demo.demo_cycle(con, "2025", codes)
    con.close()
    yield path
    if old is None:
        os.environ.pop("DANVAN_EVIDENCE_DIR", None)
    else:
        os.environ["DANVAN_EVIDENCE_DIR"] = old


@pytest.fixture
def open_db(empty_db, tmp_path, monkeypatch):
    monkeypatch.setenv("DANVAN_EVIDENCE_DIR", str(tmp_path / "ev"))
    con = store.connect(empty_db)
    auth.add_user(con, "xa_00004", "unit", "matkhau-dai-hon", actor=CLI_ACTOR, unit_code="00004")
    lifecycle.advance(con, "2025", actor=CLI_ACTOR, deadline=date.today() + timedelta(days=5))
    con.close()
    return empty_db


def _unit_account(path) -> tuple[str, str]:
    con = store.connect(path)
    name, code = next(iter(auth.demo_unit_accounts(con).items()))
    con.close()
    return name, code


def test_a_unit_account_self_scores_uploads_and_submits(open_db):
    with danvan_db_env(open_db):
        at = sign_in(open_db, "xa_00004", "matkhau-dai-hon")
        at.switch_page("pages/tu-danh-gia.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert [t.value for t in at.title] == ["Hồ sơ tự đánh giá"]
        assert any("còn 5 ngày" in m.value for m in at.markdown)
        at.number_input(key="dos_v_A3").set_value(4.0)
        at.file_uploader(key="dos_f_A1").set_value(("qd.pdf", PDF, "application/pdf"))
        button(at, "Lưu điểm tự chấm và minh chứng").click().run()
        assert not at.error, [e.value for e in at.error]
        button(at, "Nộp hồ sơ").click().run()
        assert any("Đã nộp hồ sơ" in s.value for s in at.success)
        assert button(at, "Lưu điểm tự chấm và minh chứng").disabled
    con = store.connect(open_db)
    d = dossier.dossier(con, "2025", "00004", actor=CLI_ACTOR).set_index("criterion_code")
    assert d.loc["A3", "self_value"] == 4.0 and d.loc["A1", "files"] == 1
    assert evidence.list_files(con, "2025", "00004")["file_name"].tolist() == ["qd.pdf"]
    con.close()


def test_in_the_objection_window_the_dossier_is_locked_and_an_objection_can_be_filed(cycle_db):
    name, code = _unit_account(cycle_db)
    with danvan_db_env(cycle_db):
        at = sign_in(cycle_db, name, "demo")
        at.switch_page("pages/tu-danh-gia.py").run()
        assert not at.exception, [e.value for e in at.exception]
        save = button(at, "Lưu điểm tự chấm và minh chứng")
        assert save.disabled and "Tiếp nhận kiến nghị" in save.help
        at.text_area(key="dos_obj_text").input("Đề nghị xem lại tiêu chí B2")
        button(at, "Gửi kiến nghị").click().run()
        assert not at.error, [e.value for e in at.error]
    con = store.connect(cycle_db)
    mine = objections.list_objections(con, "2025", code)
    con.close()
    assert mine["text"].tolist() == ["Đề nghị xem lại tiêu chí B2"]


def test_a_unit_account_gets_its_dossier_page_not_the_progress_or_appraisal_pages(cycle_db):
    name, code = _unit_account(cycle_db)
    with danvan_db_env(cycle_db):
        at = sign_in(cycle_db, name, "demo")
        me = at.session_state["actor"]
    assert me.unit_code == code
    from pages import common

    shown = {p for p, (_f, _t, _i, perm) in common.PAGES.items() if me.can(perm, me.unit_code)}
    assert "tu-danh-gia" in shown and not {"tien-do", "tham-dinh", "nhap-du-lieu"} & shown


def test_the_council_sees_progress_by_province_and_block(cycle_db):
    with danvan_db_env(cycle_db):
        at = sign_in(cycle_db, "hoidong", "demo")
        at.switch_page("pages/tien-do.py").run()
        assert not at.exception, [e.value for e in at.exception]
        labels = {m.label: m.value for m in at.metric}
        assert int(labels["Đã nộp"].replace(".", "")) > 0 and int(labels["Quá hạn"].replace(".", "")) > 0
        assert len(at.dataframe) >= 1


def test_the_appraiser_page_is_disabled_outside_appraisal_with_the_librarys_reason(cycle_db):
    with danvan_db_env(cycle_db):
        at = sign_in(cycle_db, "canbo", "demo")
        at.switch_page("pages/tham-dinh.py").run()
        con = store.connect(cycle_db)
        code = objections.list_objections(con, "2025")["unit_code"].iloc[0]
        why = lifecycle.refusal(con, "2025", "appraised", [code])
        con.close()
        at.text_input(key="tdg_unit").input(code).run()
        assert not at.exception, [e.value for e in at.exception]
        record = button(at, "Ghi kết quả thẩm định")
        assert record.disabled and record.help == why


def test_the_sign_in_page_lists_the_demo_unit_accounts(cycle_db):
    name, _ = _unit_account(cycle_db)
    with danvan_db_env(cycle_db):
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert any(name in i.value for i in at.info)
