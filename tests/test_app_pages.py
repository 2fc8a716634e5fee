"""Every dashboard page (AppTest): renders for its roles on the demo database and on an empty one,
filters change what is shown, the unit profile follows its URL."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from danvan_scoring import auth, store
from danvan_scoring.bootstrap import init_database

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ROLE_PAGES = {
    "lanhdao": ["tong_quan", "xep_hang", "so_sanh", "ho_so", "mo_hinh", "bao_cao"],
    "hoidong": ["trong_so", "khen_thuong"],
    "canbo": ["nhap_du_lieu", "bao_cao"],
    "quantri": ["tong_quan", "xep_hang", "so_sanh", "ho_so", "mo_hinh", "trong_so", "nhap_du_lieu", "quan_tri",
                "khen_thuong", "bao_cao"],
}
TITLES = {"tong_quan": "Tổng quan", "xep_hang": "Xếp hạng", "so_sanh": "So sánh", "ho_so": "Hồ sơ đơn vị",
          "mo_hinh": "Mô hình “Dân vận khéo”", "trong_so": "Trọng số", "nhap_du_lieu": "Nhập dữ liệu", "quan_tri": "Quản trị",
          "khen_thuong": "Khen thưởng", "bao_cao": "Báo cáo"}


@pytest.fixture(scope="module")
def dbs(tmp_path_factory, demo_db_template):
    base = tmp_path_factory.mktemp("pages")
    demo = base / "demo.duckdb"
    shutil.copy(demo_db_template, demo)  # the session's demo DB, built once (conftest)
    empty = base / "empty.duckdb"
    init_database(empty)
    con = store.connect(empty)
    for name, role in auth.DEMO_ACCOUNTS.items():
        auth.add_user(con, name, role, "matkhau-dai-hon", actor=auth.CLI_ACTOR)
    con.close()
    old = os.environ.get("DANVAN_DB")
    yield {"demo": demo, "empty": empty}
    if old is None:
        os.environ.pop("DANVAN_DB", None)
    else:
        os.environ["DANVAN_DB"] = old


def _field(at, label):
    return next(t for t in at.text_input if t.label == label)


def sign_in(db: Path, username: str, password: str) -> AppTest:
    os.environ["DANVAN_DB"] = str(db)
    at = AppTest.from_file(APP, default_timeout=60).run()
    _field(at, "Tên đăng nhập").input(username)
    _field(at, "Mật khẩu").input(password)
    next(b for b in at.button if b.label == "Đăng nhập").click().run()
    assert at.session_state["actor"].username == username
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page.replace('_', '-')}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [TITLES[page]]
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture(scope="module")
def leader(dbs):
    return sign_in(dbs["demo"], "lanhdao", "demo")


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_every_page_renders_on_demo(dbs, username):
    at = sign_in(dbs["demo"], username, "demo")
    for page in ROLE_PAGES[username]:
        open_page(at, page)
        assert any("Dữ liệu minh họa" in m.value for m in at.main.markdown), page  # the demo badge
        # a missing value reads "—" in every table, not Streamlit's English "None"
        assert all(d.proto.placeholder == "—" for d in at.dataframe), page


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_every_page_renders_on_empty_db(dbs, username):
    at = sign_in(dbs["empty"], username, "matkhau-dai-hon")
    for page in ROLE_PAGES[username]:
        open_page(at, page)
        assert not any("Dữ liệu minh họa" in m.value for m in at.main.markdown), page
        if page in ("tong_quan", "xep_hang", "so_sanh", "ho_so"):
            assert any("Chưa có dữ liệu" in i.value for i in at.info), page
        assert not at.dataframe or page in ("nhap_du_lieu", "quan_tri", "trong_so", "mo_hinh"), page


def test_ranking_table_and_province_filter(leader):
    at = open_page(leader, "xep_hang")
    table = at.dataframe[0].value
    assert len(table) == 171
    assert list(table["Hạng chung"].head(3)) == [1, 2, 3]
    assert {"Hạng trong khối", "Tổng điểm", "Xếp loại", "Nhóm A", "± điểm", "Tự chấm − thẩm định", "Đủ điều kiện",
            "Hồ sơ"} <= set(table.columns)
    assert table["Hồ sơ"].iloc[0] == f"ho-so?unit={table['Mã'].iloc[0]}&period=2025"
    at.multiselect(key="rank_prov").select("42").run()
    only = at.dataframe[0].value
    assert 0 < len(only) < 171 and set(only["Tỉnh"]) == {"Hà Tĩnh"}
    at.multiselect(key="rank_tier").select("tot").run()
    assert set(at.dataframe[0].value["Xếp loại"]) == {"Tốt"}
    at.multiselect(key="rank_tier").unselect("tot").run()
    at.text_input(key="rank_search").input("duc dong").run()
    assert list(at.dataframe[0].value["Đơn vị"]) == ["Xã Đức Đồng"]
    at.text_input(key="rank_search").input("").run()
    at.multiselect(key="rank_prov").unselect("42").run()
    assert len(at.dataframe[0].value) == 171


def test_ranking_chart_tab_is_lazy_and_follows_the_filters(leader):
    """The chart tab is computed only when open; it shows the leaders of what the filters keep."""
    import json

    at = open_page(leader, "xep_hang")
    assert not at.get("plotly_chart") and at.dataframe   # table open: no figure built or sent
    table = at.dataframe[0].value
    at.session_state["rank_view"] = "Biểu đồ các đơn vị dẫn đầu"
    at.run()
    assert not at.exception and not at.dataframe          # chart open: the grid is not sent
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    labels = spec["data"][0]["y"][::-1]                    # bars are drawn bottom-up
    assert len(labels) == 20
    assert [n.split(" (")[0] for n in labels] == list(table["Đơn vị"].head(20))
    at.multiselect(key="rank_prov").select("42").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert all(n.endswith("(Hà Tĩnh)") for n in spec["data"][0]["y"])
    assert "Năm 2025" in spec["layout"]["title"]["text"]
    at.multiselect(key="rank_prov").unselect("42").run()
    at.session_state["rank_view"] = "Bảng xếp hạng"
    at.run()
    assert len(at.dataframe[0].value) == 171 and not at.get("plotly_chart")


def test_ranking_type_and_block_filters(leader):
    at = open_page(leader, "xep_hang")
    at.multiselect(key="rank_type").select("phuong").run()
    assert set(at.dataframe[0].value["Loại đơn vị"]) == {"Phường"}
    at.multiselect(key="rank_type").unselect("phuong").run()
    at.multiselect(key="rank_block").select("42-X2").run()
    t = at.dataframe[0].value
    assert set(t["Khối thi đua"]) == {"Cụm xã 2 — khối tạm (tự động)"} and set(t["Tỉnh"]) == {"Hà Tĩnh"}
    at.multiselect(key="rank_block").unselect("42-X2").run()


def test_ranking_older_period(leader):
    at = open_page(leader, "xep_hang")
    at.selectbox(key="rank_period").select("2023").run()
    assert not at.exception
    t = at.dataframe[0].value
    assert t["± điểm"].isna().all()  # nothing before 2023
    at.selectbox(key="rank_period").select("2025").run()


def test_overview_filter_changes_cards(leader):
    at = open_page(leader, "tong_quan")
    scored = next(m for m in at.metric if m.label == "Đơn vị được chấm")
    assert scored.value == "171"
    at.multiselect(key="ov_prov").select("91").run()
    scored = next(m for m in at.metric if m.label == "Đơn vị được chấm")
    assert 0 < int(scored.value.replace(".", "")) < 171
    at.multiselect(key="ov_prov").unselect("91").run()


def test_profile_follows_the_url(dbs):
    at = sign_in(dbs["demo"], "lanhdao", "demo")
    at.query_params["unit"] = "18304"
    at.query_params["period"] = "2024"
    at.switch_page("pages/ho-so.py").run()
    assert not at.exception
    assert at.selectbox(key="profile_unit").value == "18304"
    assert at.selectbox(key="profile_period").value == "2024"
    assert any(s.value == "Xã Đức Đồng" for s in at.subheader)
    labels = {m.label for m in at.metric}
    assert {"Tổng điểm", "Xếp loại", "Hạng chung", "Hạng trong tỉnh", "Hạng trong khối", "Điểm tự chấm"} <= labels
    # choosing another unit writes the URL a leader can send
    other = at.selectbox(key="profile_unit").options[5]
    at.selectbox(key="profile_unit").select_index(5).run()
    assert at.query_params["unit"] == at.selectbox(key="profile_unit").value
    assert at.query_params["period"] == "2024"
    assert other


def test_profile_shows_breakdown_and_points_lost(dbs):
    at = sign_in(dbs["demo"], "lanhdao", "demo")
    at.query_params["unit"] = "18304"
    at.query_params["period"] = "2025"
    at.switch_page("pages/ho-so.py").run()
    frames = [d.value for d in at.dataframe]
    crit = [f for f in frames if "Tiêu chí" in f.columns and "Tự chấm" in f.columns]
    assert {c for f in crit for c in f["Mã"]} >= {"A1", "B4", "C1", "D2", "E1"}
    # one table per group (the view is built once and sliced): each holds one group's criteria
    groups = [{c.rstrip("0123456789") for c in f["Mã"]} for f in crit]
    assert all(len(g) == 1 for g in groups) and len({next(iter(g)) for g in groups}) == len(crit), groups
    assert not any(f["Minh chứng"].isna().any() or f["Ghi chú"].isna().any() for f in crit)
    # lazy tabs: the criteria tab is open, the others are not computed until opened
    assert not any("Bị mất" in f.columns for f in frames) and not any("Điểm mạnh" in m.value for m in at.markdown)
    at.session_state["profile_view"] = "Tiêu chí bị mất điểm"
    at.run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    lost = next(f for f in frames if "Bị mất" in f.columns)
    assert list(lost["Bị mất"]) == sorted(lost["Bị mất"], reverse=True)
    assert not any("Tự chấm" in f.columns for f in frames)
    at.session_state["profile_view"] = "Điểm mạnh, điểm yếu so với khối"
    at.run()
    assert any("Điểm mạnh" in m.value for m in at.markdown)


def test_profile_of_an_unknown_unit_falls_back(dbs):
    at = sign_in(dbs["demo"], "lanhdao", "demo")
    at.query_params["unit"] = "99999"
    at.switch_page("pages/ho-so.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="profile_unit").value is not None


def test_compare_units_and_block(leader):
    at = open_page(leader, "so_sanh")
    assert len(at.multiselect(key="cmp_units").value) == 3
    crit = next(d.value for d in at.dataframe if "Chênh lệch cao − thấp" in d.value.columns)
    assert len(crit) == 23  # every ordinary criterion
    at.radio(key="cmp_mode").set_value(at.radio(key="cmp_mode").options[1]).run()
    assert not at.exception and not at.error
    summary = at.dataframe[0].value
    assert any(str(x).startswith("Bình quân") for x in summary[""])


def test_compare_asks_for_two_units(leader):
    at = open_page(leader, "so_sanh")
    at.radio(key="cmp_mode").set_value(at.radio(key="cmp_mode").options[0]).run()
    at.multiselect(key="cmp_units").set_value(["18304"]).run()
    assert not at.exception
    assert any("ít nhất 2" in i.value for i in at.info)
