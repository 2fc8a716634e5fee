"""Model lists: reading, importing once, refusing with every problem, templates, the CLI, the page."""

from __future__ import annotations

import io
import json
import os
import subprocess

import pandas as pd
import pytest
from models_support import DANVAN, LEADER, PERIOD, PROVINCE, ROOT, STAFF, snapshot

from danvan_scoring import batches as batch_store
from danvan_scoring import derived, model_upload, registry, rubric, store
from danvan_scoring import units as unit_store
from danvan_scoring.uploads import UploadRejected


def model_csv(rows: list[list], header=None, sep: str = ",") -> bytes:
    header = header or ["Mã đơn vị", "Kỳ", "Tên mô hình", "Lĩnh vực", "Loại", "Trạng thái", "Cấp công nhận",
                        "Minh chứng"] + [it.header for it in rubric.default_rubric().items]
    buf = io.StringIO()
    pd.DataFrame(rows, columns=header).to_csv(buf, index=False, sep=sep)
    return buf.getvalue().encode("utf-8")


def a_unit(con) -> str:
    u = unit_store.units(con)
    return u.loc[u["province_code"] == PROVINCE, "unit_code"].iloc[3]


def test_good_model_file_imports_once_and_undoes(mcon):
    unit = a_unit(mcon)
    data = model_csv([
        [unit, "2026", "Camera an ninh tự quản", "Quốc phòng - an ninh", "Tập thể", "Được công nhận", "Cấp tỉnh",
         "bb.pdf", 15, "25,5", 12, 12, 8, 7],
        [unit, "2026", "Chi bộ bốn tốt", "xây dựng đảng", "", "", "", "", "", "", "", "", "", ""],
        [int(unit), "Năm 2026", "Điển hình: ông Lê Văn A", "Đoàn thể", "Cá nhân", "đang thực hiện", "", "", "",
         "", "", "", "", ""],
    ], sep=";")  # Excel's Vietnamese CSV: semicolons, decimal commas
    before = derived.models_summary_by_unit(mcon, PERIOD).set_index("unit_code").loc[unit]
    res = model_upload.import_models_file(mcon, data, "mo-hinh.csv", actor=STAFF)
    assert (res.new, res.changed, res.batch_id is not None) == (3, 0, True)
    assert "Đã ghi lần nhập số" in res.summary()
    lst = registry.list_models(mcon, PERIOD, unit)
    cam = lst[lst["name"] == "Camera an ninh tự quản"].iloc[0]
    assert (cam["field"], cam["status"], cam["level"], cam["kind"]) == ("defence_security", "recognised",
                                                                         "province", "collective")
    assert cam["rubric_total"] == pytest.approx(79.5) and cam["rubric_results"] == 25.5
    assert lst[lst["name"] == "Chi bộ bốn tốt"].iloc[0]["status"] == "registered"
    after = derived.models_summary_by_unit(mcon, PERIOD).set_index("unit_code").loc[unit]
    assert after["n_party_building"] == before["n_party_building"] + 1
    again = model_upload.import_models_file(mcon, data, "mo-hinh.csv", actor=STAFF)
    assert again.skipped_duplicate and again.batch_id is None
    assert mcon.execute("SELECT kind FROM batches WHERE batch_id = ?", [res.batch_id]).fetchone()[0] == "models"
    batch_store.undo_batch(mcon, res.batch_id, actor=STAFF)
    assert "Camera an ninh tự quản" not in set(registry.list_models(mcon, PERIOD, unit)["name"])


def test_rejected_model_file_writes_nothing_and_lists_every_problem(mcon):
    unit = a_unit(mcon)
    empty = [""] * 6
    data = model_csv([
        [unit, "2026", "Mô hình tốt", "Kinh tế", "Tập thể", "Đã đăng ký", "", ""] + empty,
        ["99999", "2026", "Đơn vị lạ", "Kinh tế", "", "", "", ""] + empty,
        [unit, "2026", "Sai lĩnh vực", "Thể thao", "", "", "", ""] + empty,
        [unit, "2026", "Công nhận thiếu cấp", "Kinh tế", "", "Được công nhận", "", ""] + empty,
        [unit, "2026", "Thiếu mục", "Kinh tế", "", "", "", "", 10, 20, "", "", "", ""],
        [unit, "2026", "Quá điểm", "Kinh tế", "", "", "", "", 25, 20, 10, 10, 5, 5],
        [unit, "2031", "Kỳ chưa có", "Kinh tế", "", "", "", ""] + empty,
        [unit, "2026", "", "Kinh tế", "Nhóm", "Đang làm", "", ""] + empty,
    ])
    before = snapshot(mcon)
    with pytest.raises(UploadRejected) as exc:
        model_upload.import_models_file(mcon, data, "sai.csv", actor=STAFF)
    assert snapshot(mcon) == before
    lines = [p.line() for p in exc.value.problems]
    where = {(p.row, p.column) for p in exc.value.problems}
    assert (3, "Mã đơn vị") in where
    assert (4, "Lĩnh vực") in where
    assert (5, "Cấp công nhận") in where
    assert (6, "Huy động nhiều lực lượng tham gia (15)") in where
    assert (7, "Tính mới, sáng tạo (20)") in where
    assert (8, "Kỳ") in where
    assert {(9, "Tên mô hình"), (9, "Loại"), (9, "Trạng thái")} <= where
    assert any("Thể thao" in line and "Kinh tế; Văn hóa - xã hội" in line for line in lines)
    assert all(p.row is not None for p in exc.value.problems)


def test_model_file_header_problems_and_dry_run(mcon):
    before = snapshot(mcon)
    with pytest.raises(UploadRejected) as exc:
        model_upload.import_models_file(mcon, "Mã đơn vị,Tên mô hình\n18073,X\n".encode(), "x.csv", actor=STAFF)
    assert "thiếu cột bắt buộc: lĩnh vực" in exc.value.problems[0].reason
    with pytest.raises(UploadRejected) as exc:
        model_upload.import_models_file(mcon, b"a,b\n1,2\n", "x.csv", actor=STAFF)
    assert "không tìm thấy dòng tiêu đề" in exc.value.problems[0].reason
    unit = a_unit(mcon)
    data = model_csv([[unit, "2026", "Thử", "Kinh tế", "", "", "", ""] + [""] * 6])
    res = model_upload.import_models_file(mcon, data, "t.csv", actor=STAFF, dry_run=True)
    assert res.dry_run and res.new == 1 and res.batch_id is None
    with pytest.raises(store.PermissionDenied):
        model_upload.import_models_file(mcon, data, "t.csv", actor=LEADER)
    assert snapshot(mcon) == before


def test_model_id_cannot_move_to_another_unit(mcon):
    m = registry.current_models(mcon, PERIOD).iloc[0]
    other = [u for u in unit_store.units(mcon)["unit_code"] if u != m["unit_code"]][0]
    header = ["Mã mô hình", "Mã đơn vị", "Kỳ", "Tên mô hình", "Lĩnh vực"]
    data = model_csv([[m["model_id"], other, PERIOD, "Chuyển", "Kinh tế"]], header)
    with pytest.raises(UploadRejected) as exc:
        model_upload.import_models_file(mcon, data, "x.csv", actor=STAFF)
    assert "đã thuộc đơn vị" in exc.value.problems[0].reason


def test_template_round_trips_through_xlsx(mcon, tmp_path):
    unit = a_unit(mcon)
    t = model_upload.template_frame({unit: "X"}, PERIOD)
    assert list(t.columns[:5]) == ["Mã mô hình", "Mã đơn vị", "Tên đơn vị", "Kỳ", "Tên mô hình"]
    t.loc[0, "Tên mô hình"] = "Tủ sách cộng đồng"
    t.loc[0, "Lĩnh vực"] = "Văn hóa - xã hội"
    path = tmp_path / "mau.xlsx"
    model_upload.write_template(t, path, "xlsx")
    res = model_upload.import_models_file(mcon, path.read_bytes(), "mau.xlsx", actor=STAFF)
    assert res.new == 1
    got = registry.list_models(mcon, PERIOD, unit)
    row = got[got["name"] == "Tủ sách cộng đồng"].iloc[0]
    assert row["field"] == "culture_society" and row["model_id"] == model_upload.auto_model_id(unit, PERIOD,
                                                                                         "Tủ sách cộng đồng")


def run(*args):
    env = {k: v for k, v in os.environ.items() if k != "DANVAN_DB"}
    return subprocess.run([DANVAN, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_lists_models_with_the_contract_columns(mdb):
    p = run("models", "--db", str(mdb), "--period", PERIOD, "--format", "csv")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("model_id,unit_code,name,field,kind,status,level,rubric_total")
    df = pd.read_csv(io.StringIO(p.stdout), dtype={"unit_code": str})
    assert len(df) > 100 and set(df["status"]) <= set(rubric.STATUSES)
    p = run("models", "--db", str(mdb), "--period", PERIOD, "--unit", df["unit_code"].iloc[0], "--format", "json")
    assert p.returncode == 0 and json.loads(p.stdout)[0]["unit_code"] == df["unit_code"].iloc[0]


def test_cli_imports_a_model_file_or_rejects_it(mdb, tmp_path):
    con = store.connect(mdb)
    unit = a_unit(con)
    con.close()
    good = tmp_path / "ds.csv"
    good.write_bytes(model_csv([[unit, PERIOD, "Bữa cơm nghĩa tình", "Văn hóa - xã hội", "", "", "", ""]
                                + [""] * 6]))
    p = run("import", str(good), "--kind", "models", "--db", str(mdb))
    assert p.returncode == 0, p.stderr
    assert "1 mới" in p.stdout
    bad = tmp_path / "sai.csv"
    bad.write_bytes(model_csv([[unit, PERIOD, "X", "Thể thao", "", "", "", ""] + [""] * 6]))
    p = run("import", str(bad), "--kind", "models", "--db", str(mdb))
    assert p.returncode == 3 and "Dòng 2, cột 'Lĩnh vực'" in p.stderr and "Traceback" not in p.stderr


# --------------------------------------------------------------------------- page
def test_page_renders_with_apptest(mdb, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DANVAN_DB", str(mdb))
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from danvan_scoring.permissions import Actor
import importlib.util
from pages import common
spec = importlib.util.spec_from_file_location("mo_hinh", {str(ROOT / "pages" / "mo-hinh.py")!r})
mo_hinh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mo_hinh)
st.session_state["_period"] = {PERIOD!r}
mo_hinh.render(common.open_run(), Actor("canbo", "staff"))
"""
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.label == "Mô hình" for m in at.metric)
    assert at.tabs[0].label == "Danh sách mô hình"
    # dataframes in page order: the list, the card's history, the best models, the units
    n_all = len(at.dataframe[0].value)
    assert n_all > 100
    at.text_input(key="mh_search").input("camera").run()
    shown = at.dataframe[0].value
    assert 0 < len(shown) < n_all and shown["Tên mô hình"].str.lower().str.contains("camera").all()
    at.multiselect(key="mh_f_status").select("recognised").run()
    assert (at.dataframe[0].value["Trạng thái"] == "Được công nhận").all()
    assert at.dataframe[1].value.shape[0] >= 2  # registered, then recognised
    assert at.dataframe[1].value["Trạng thái"].iloc[0] == "Được công nhận"
    at.selectbox(key="mh_gap").select("party_building").run()
    units = at.dataframe[-1].value
    assert len(units) > 0 and (units["Xây dựng Đảng"] == 0).all()
    at.selectbox(key="mh_prov").select(PROVINCE).run()
    assert not at.exception


def test_a_registry_worded_as_the_district_reports_imports_and_a_near_miss_asks(mcon):
    """Fields as shared/seeds/003 words them ("mô hình lĩnh vực kinh tế", "lĩnh vực đoàn thể chính
    trị"), an older name and abbreviations are read as their fields; a typo gets "có phải …?"."""
    unit = a_unit(mcon)
    empty = [""] * 6
    words = {"Lĩnh vực kinh tế": "economy", "Lĩnh vực đoàn thể chính trị": "mass_organisations",
             "Mô hình lĩnh vực quốc phòng - an ninh": "defence_security", "VH-XH": "culture_society",
             "Xây dựng Đảng và hệ thống chính trị": "party_building", "Dân vận chính quyền": "government"}
    rows = [[unit, "2026", f"Mô hình {i}", w, "", "", "", ""] + empty for i, w in enumerate(words)]
    model_upload.import_models_file(mcon, model_csv(rows), "bao-cao.csv", actor=STAFF)
    lst = registry.list_models(mcon, PERIOD, unit).set_index("name")
    assert {w: lst.loc[f"Mô hình {i}", "field"] for i, w in enumerate(words)} == words
    before = snapshot(mcon)
    with pytest.raises(UploadRejected) as exc:
        model_upload.import_models_file(mcon, model_csv([[unit, "2026", "Sai chữ", "lĩnh vực kinh tes", "", "",
                                                           "", ""] + empty]), "sai.csv", actor=STAFF)
    assert snapshot(mcon) == before
    (p,) = exc.value.problems
    assert (p.row, p.column) == (2, "Lĩnh vực") and "có phải 'Kinh tế'?" in p.reason
