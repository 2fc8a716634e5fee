"""Khen thưởng and Báo cáo (AppTest): the council sees caps and proposals, records a vote, drafts the
decision; a leader downloads the report (its tier table = the ranking's counts); staff the minutes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apptest_support import button, danvan_db_env, field
from streamlit.testing.v1 import AppTest

from danvan_scoring import results, store
from danvan_scoring.votes import votes

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def db(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("awards_app") / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    with danvan_db_env(path):
        yield path


def sign_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    field(at, "Tên đăng nhập").input(username)
    field(at, "Mật khẩu").input("demo")
    button(at, "Đăng nhập").click().run()
    return at


def open_page(at, name: str) -> AppTest:
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_council_records_a_vote_and_drafts_the_decision(db):
    at = open_page(sign_in("hoidong"), "khen-thuong")
    assert [t.value for t in at.title] == ["Khen thưởng"]
    caps = at.dataframe[0].value
    assert "tối đa 1 mỗi khối" in set(caps["Chỉ tiêu"])
    table = next(d.value for d in at.dataframe if "Căn cứ" in d.value.columns)
    assert set(table["Kết quả"]) == {"Chưa biểu quyết"}
    first = table.iloc[0]
    assert first["Hình thức"] == "Cờ thi đua của Ủy ban nhân dân tỉnh"
    at.selectbox(key="kt_pick").set_value(f"{first['Mã']}|co_thi_dua").run()
    at.number_input(key="kt_for").set_value(7)
    at.number_input(key="kt_against").set_value(2)
    at.number_input(key="kt_abstain").set_value(0)
    next(b for b in at.button if b.label == "Ghi kết quả biểu quyết").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Thông qua" in s.value for s in at.success)
    con = store.connect(db)
    v = votes(con, "2025")
    con.close()
    assert v[["unit_code", "award_code", "votes_for", "passed"]].values.tolist() == [[first["Mã"], "co_thi_dua", 7, True]]
    table = next(d.value for d in at.dataframe if "Căn cứ" in d.value.columns)
    assert table.loc[table["Mã"] == first["Mã"], "Kết quả"].iloc[0] == "Thông qua"
    at.button(key="kt_draft").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [(b.label, b.proto.url.rsplit(".", 1)[-1]) for b in at.get("download_button")] == [
        ("Tải dự thảo quyết định (DOCX)", "docx")]


def test_a_refused_vote_is_explained_on_the_page(db):
    at = open_page(sign_in("hoidong"), "khen-thuong")
    next(b for b in at.button if b.label == "Ghi kết quả biểu quyết").click().run()   # 0 / 0 / 0
    assert any("tổng số phiếu bằng 0" in e.value for e in at.error)


def test_leader_downloads_the_report_whose_tiers_are_the_ranking(db):
    at = open_page(sign_in("lanhdao"), "bao-cao")
    tiers = at.dataframe[0].value
    con = store.connect(db)
    r = results.period_results(con, "2025")
    con.close()
    counts = r["tier"].value_counts().to_dict()
    got = {k: int(v) for k, v in zip(tiers["Mức xếp loại"], tiers["Số đơn vị"]) if v}
    assert got == counts
    assert at.button(key="bc_make")
    assert not [b for b in at.button if b.label == "Tạo biên bản"]          # minutes: staff, not leaders
    at.button(key="bc_make").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [(b.label, b.proto.url.rsplit(".", 1)[-1]) for b in at.get("download_button")] == [
        ("Tải báo cáo tổng kết (DOCX)", "docx")]


def test_staff_download_a_units_minutes(db):
    at = open_page(sign_in("canbo"), "bao-cao")
    at.button(key="bb_make").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (dl,) = at.get("download_button")
    assert dl.label.startswith("Tải biên bản thẩm định") and dl.proto.url.endswith(".docx")
