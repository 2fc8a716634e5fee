"""The "Dân vận khéo" model registry: derived criteria, status changes, uploads, rubric, CLI, page."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from danvan_scoring import batches, bootstrap, demo, models, periods, permissions, store
from danvan_scoring import units as unit_store
from danvan_scoring import units as official_units
from danvan_scoring.permissions import Actor
from danvan_scoring.criteria import FrameworkError, load_framework, parse_framework
from danvan_scoring.ingest import UploadRejected
from danvan_scoring.results import period_results
from danvan_scoring.weights import ensure_default_profile

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "data" / "criteria" / "dvk-2025.v1.yaml"
V2 = ROOT / "data" / "criteria" / "dvk-2025.v2.yaml"
PERIOD = "2026"
PROVINCE = "42"  # Hà Tĩnh
STAFF = Actor("canbo", "staff")
LEADER = Actor("lanhdao", "leader")
DANVAN = str(Path(sys.executable).with_name("danvan"))


@pytest.fixture(scope="session")
def models_db_template(tmp_path_factory):
    """Period 2025 on framework v1 (typed C points), period 2026 on v2 (C and P1 derived from the
    registry); typed demo scores for Hà Tĩnh in both, including stale typed values for the derived
    criteria (which must be ignored), and a demo registry for 2026."""
    path = tmp_path_factory.mktemp("models") / "m.duckdb"
    con = store.connect(path, create=True)
    store.migrate(con)
    official_units.load_into(con)
    for period, fw in (("2025", load_framework(V1)), (PERIOD, load_framework(V2))):  # whatever the default
        periods.save_framework(con, fw)
        ensure_default_profile(con, fw)
        bootstrap.ensure_period(con, period, fw)
    fw2 = load_framework(V2)
    u = unit_store.units(con)
    codes = u.loc[u["province_code"] == PROVINCE, "unit_code"].tolist()
    from danvan_scoring.permissions import CLI_ACTOR

    rows = demo.generate(fw2, codes, ["2025", PERIOD], seed=11)
    rows = rows[~((rows["period"] == PERIOD) & rows["criterion_code"].isin(["C1", "C2", "C3", "C4", "P1"]))]
    stale = pd.DataFrame({"unit_code": codes, "period": PERIOD, "criterion_code": "C1", "stage": "appraised",
                          "value": 100.0, "evidence": None, "note": "typed before v2"})
    rows = pd.concat([rows, stale], ignore_index=True)  # a stale typed value the registry must override
    batches.write_batch(con, rows, actor=CLI_ACTOR, filename="demo", content_hash="demo-test", synthetic=True)
    models.generate_demo_models(con, seed=5, periods=[PERIOD], provinces=[PROVINCE])
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture
def mdb(models_db_template, tmp_path):
    p = tmp_path / "m.duckdb"
    shutil.copy(models_db_template, p)
    return p


@pytest.fixture
def mcon(mdb):
    con = store.connect(mdb)
    yield con
    con.close()


def snapshot(con) -> tuple:
    return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("model_entries", "batches", "audit_log", "score_entries"))


# --------------------------------------------------------------------------- independent recomputation
def expected_values(con, period: str, units: list[str]) -> pd.DataFrame:
    """Every derived metric from the listed models with plain pandas, straight from the data files."""
    fields = yaml.safe_load((ROOT / "data" / "models" / "fields.yaml").read_text(encoding="utf-8"))["fields"]
    target = {f["code"]: f["default_target"] for f in fields}
    m = models.list_models(con, period)
    out = []
    for u in units:
        mu = m[m["unit_code"] == u]
        active = mu[mu["status"] != "dropped"]
        rec = mu[mu["status"].isin(["recognised", "replicated"])]
        per_field = active["field"].value_counts()
        capped = sum(min(per_field.get(f, 0), t) for f, t in target.items())
        scored = rec["rubric_total"].dropna()
        bonus = ((mu["status"] == "replicated")
                 | ((mu["status"] == "recognised") & mu["level"].isin(["province", "central"]))).sum()
        out.append({
            "unit_code": u,
            "models_registered_ratio": 100 * capped / sum(target.values()),
            "fields_covered": float(sum(per_field.get(f, 0) > 0 for f in target)),
            "share_recognised": 100 * len(rec) / len(mu) if len(mu) else 0.0,
            "mean_rubric_recognised": scored.mean() if len(scored) else 0.0,
            "replicated_bonus": float(bonus),
        })
    return pd.DataFrame(out)


def points(fw, code: str, value: float) -> float:
    c = fw.criteria[code]
    if c.kind.value == "ratio":
        return c.max_points * min(1.0, value / c.target)
    if c.kind.value == "count":
        return min(c.max_points, value * c.per_unit)
    return min(c.max_points, value)


def test_derived_points_equal_an_independent_recomputation(mcon):
    fw = periods.framework_for_period(mcon, PERIOD)
    derived = models.derived_criteria(fw)
    assert derived == {"C1": "models_registered_ratio", "C2": "fields_covered", "C3": "share_recognised",
                       "C4": "mean_rubric_recognised", "P1": "replicated_bonus"}
    res = period_results(mcon, PERIOD, with_previous=False)
    units = res["unit_code"].tolist()
    exp = expected_values(mcon, PERIOD, units).set_index("unit_code")

    d = models.derived_scores(mcon, PERIOD, fw, units)
    assert set(d["stage"]) == {"self", "appraised"}
    got = d[d["stage"] == "appraised"].pivot(index="unit_code", columns="criterion_code", values="value")
    for code, metric in derived.items():
        np.testing.assert_allclose(got.loc[units, code].to_numpy(), exp.loc[units, metric].to_numpy(), atol=1e-3)

    # group C under the default profile is the sum of its points; the bonus holds P1
    scores = batches.current_scores(mcon, PERIOD, stage="appraised")
    p2 = scores[scores["criterion_code"] == "P2"].set_index("unit_code")["value"]
    for u in units:
        c_points = sum(points(fw, c, exp.loc[u, derived[c]]) for c in ("C1", "C2", "C3", "C4"))
        row = res[res["unit_code"] == u].iloc[0]
        assert row["group_C"] == pytest.approx(c_points, abs=1e-6)
        assert row["bonus"] == pytest.approx(points(fw, "P1", exp.loc[u, "replicated_bonus"]) + p2.get(u, 0.0),
                                             abs=1e-6)
    # the registry decides: the stale typed C values in the database play no part
    typed_c = scores[scores["criterion_code"] == "C1"]
    assert len(typed_c) > 0
    # the spread is real: the registry separates units
    assert res["group_C"].std() > 1


def test_unit_without_models_gets_zero_not_missing(mcon):
    fw = periods.framework_for_period(mcon, PERIOD)
    s = models.models_summary_by_unit(mcon, PERIOD)
    unit = s.loc[s["models_total"] > 0, "unit_code"].iloc[0]
    mine = models.current_models(mcon, PERIOD, unit)
    # every model of the unit dropped (undoing the demo batches would empty every unit)
    for mid in mine["model_id"]:
        rec = models.get_model(mcon, PERIOD, mid)
        if rec["status"] != "dropped":
            models.set_status(mcon, PERIOD, mid, "dropped", actor=STAFF)
    d = models.derived_scores(mcon, PERIOD, fw, [unit])
    vals = d[d["stage"] == "appraised"].set_index("criterion_code")["value"]
    assert vals["C1"] == 0 and vals["C2"] == 0 and vals["C3"] == 0 and vals["P1"] == 0
    res = period_results(mcon, PERIOD, with_previous=False)
    row = res[res["unit_code"] == unit].iloc[0]
    assert "C1" not in row["missing"] and "C3" not in row["missing"]


def test_status_change_moves_the_units_points_and_undo_restores_them(mcon):
    fw = periods.framework_for_period(mcon, PERIOD)
    before = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    summ = models.models_summary_by_unit(mcon, PERIOD).set_index("unit_code")
    m = models.current_models(mcon, PERIOD)
    # a unit below the 60% recognised target with a model in progress
    cands = [u for u in summ.index[summ["share_recognised"] < 40]
             if ((m["unit_code"] == u) & (m["status"] == "in_progress")).any() and u in before.index]
    assert cands
    unit = cands[0]
    mid = m[(m["unit_code"] == unit) & (m["status"] == "in_progress")]["model_id"].iloc[0]
    n_total = int(summ.loc[unit, "models_total"])
    res = models.set_status(mcon, PERIOD, mid, "recognised", actor=STAFF, level="commune")
    after = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    c3 = fw.criteria["C3"]
    step = c3.max_points * (100 / n_total) / c3.target  # one more recognised model, below the cap
    assert after.loc[unit, "total"] > before.loc[unit, "total"]
    if models.get_model(mcon, PERIOD, mid)["rubric_total"] is None:  # C4 unchanged: exactly one C3 step
        assert after.loc[unit, "group_C"] - before.loc[unit, "group_C"] == pytest.approx(step, abs=1e-6)
    others = after.index.difference([unit])
    pd.testing.assert_series_equal(after.loc[others, "total"], before.loc[others, "total"])
    # history keeps both states; undo brings the points back exactly
    h = models.model_history(mcon, PERIOD, mid)
    assert h["status"].tolist()[:2] == ["recognised", "in_progress"]
    batches.undo_batch(mcon, res.batch_id, actor=STAFF)
    again = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    assert again.loc[unit, "total"] == pytest.approx(before.loc[unit, "total"], abs=1e-12)
    assert models.get_model(mcon, PERIOD, mid)["status"] == "in_progress"


def test_status_change_exact_step_for_a_model_without_rubric(mcon):
    """Recognising a model with no rubric score changes C3 only (C4 averages scored models)."""
    fw = periods.framework_for_period(mcon, PERIOD)
    summ = models.models_summary_by_unit(mcon, PERIOD).set_index("unit_code")
    m = models.current_models(mcon, PERIOD)
    pick = m[(m["status"] == "registered") & m["rubric_total"].isna()
             & m["unit_code"].map(summ["share_recognised"] < 40)]
    assert len(pick)
    unit, mid = pick.iloc[0]["unit_code"], pick.iloc[0]["model_id"]
    before = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    models.set_status(mcon, PERIOD, mid, "recognised", actor=STAFF)
    after = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    c3 = fw.criteria["C3"]
    step = c3.max_points * (100 / summ.loc[unit, "models_total"]) / c3.target
    assert after.loc[unit, "group_C"] - before.loc[unit, "group_C"] == pytest.approx(step, abs=1e-6)
    assert models.get_model(mcon, PERIOD, mid)["level"] == "commune"


def test_status_changes_are_checked(mcon):
    m = models.current_models(mcon, PERIOD)
    dropped = m[m["status"] == "dropped"]["model_id"].iloc[0]
    with pytest.raises(models.ModelsError, match="Không chuyển được"):
        models.set_status(mcon, PERIOD, dropped, "replicated", actor=STAFF)
    with pytest.raises(models.ModelsError, match="Trạng thái 'won' không hợp lệ"):
        models.set_status(mcon, PERIOD, dropped, "won", actor=STAFF)
    with pytest.raises(permissions.PermissionDenied):
        models.set_status(mcon, PERIOD, dropped, "registered", actor=LEADER)
    with pytest.raises(models.ModelsError, match="Không có mô hình"):
        models.set_status(mcon, PERIOD, "MH-NOPE", "registered", actor=STAFF)


def test_rubric_scoring_moves_c4(mcon):
    m = models.current_models(mcon, PERIOD)
    rec = m[m["status"].isin(models.RECOGNISED) & m["rubric_total"].notna()].iloc[0]
    full = {it.code: it.max_points for it in models.default_rubric().items}
    models.score_model(mcon, PERIOD, rec["model_id"], full, actor=STAFF)
    assert models.get_model(mcon, PERIOD, rec["model_id"])["rubric_total"] == 100
    with pytest.raises(models.ModelsError, match="phải từ 0 đến 20"):
        models.score_model(mcon, PERIOD, rec["model_id"], {**full, "novelty": 25}, actor=STAFF)
    with pytest.raises(models.ModelsError, match="thiếu điểm mục"):
        models.score_model(mcon, PERIOD, rec["model_id"], {"novelty": 5}, actor=STAFF)


# --------------------------------------------------------------------------- uploads
def model_csv(rows: list[list], header=None, sep: str = ",") -> bytes:
    header = header or ["Mã đơn vị", "Kỳ", "Tên mô hình", "Lĩnh vực", "Loại", "Trạng thái", "Cấp công nhận",
                        "Minh chứng"] + [it.header for it in models.default_rubric().items]
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
    before = models.models_summary_by_unit(mcon, PERIOD).set_index("unit_code").loc[unit]
    res = models.import_models_file(mcon, data, "mo-hinh.csv", actor=STAFF)
    assert (res.new, res.changed, res.batch_id is not None) == (3, 0, True)
    assert "Đã nhập lô số" in res.summary()
    lst = models.list_models(mcon, PERIOD, unit)
    cam = lst[lst["name"] == "Camera an ninh tự quản"].iloc[0]
    assert (cam["field"], cam["status"], cam["level"], cam["kind"]) == ("defence_security", "recognised",
                                                                         "province", "collective")
    assert cam["rubric_total"] == pytest.approx(79.5) and cam["rubric_results"] == 25.5
    assert lst[lst["name"] == "Chi bộ bốn tốt"].iloc[0]["status"] == "registered"
    after = models.models_summary_by_unit(mcon, PERIOD).set_index("unit_code").loc[unit]
    assert after["n_party_building"] == before["n_party_building"] + 1
    again = models.import_models_file(mcon, data, "mo-hinh.csv", actor=STAFF)
    assert again.skipped_duplicate and again.batch_id is None
    assert mcon.execute("SELECT kind FROM batches WHERE batch_id = ?", [res.batch_id]).fetchone()[0] == "models"
    batches.undo_batch(mcon, res.batch_id, actor=STAFF)
    assert "Camera an ninh tự quản" not in set(models.list_models(mcon, PERIOD, unit)["name"])


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
        models.import_models_file(mcon, data, "sai.csv", actor=STAFF)
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
        models.import_models_file(mcon, "Mã đơn vị,Tên mô hình\n18073,X\n".encode(), "x.csv", actor=STAFF)
    assert "thiếu cột bắt buộc: lĩnh vực" in exc.value.problems[0].reason
    with pytest.raises(UploadRejected) as exc:
        models.import_models_file(mcon, b"a,b\n1,2\n", "x.csv", actor=STAFF)
    assert "không tìm thấy dòng tiêu đề" in exc.value.problems[0].reason
    unit = a_unit(mcon)
    data = model_csv([[unit, "2026", "Thử", "Kinh tế", "", "", "", ""] + [""] * 6])
    res = models.import_models_file(mcon, data, "t.csv", actor=STAFF, dry_run=True)
    assert res.dry_run and res.new == 1 and res.batch_id is None
    with pytest.raises(permissions.PermissionDenied):
        models.import_models_file(mcon, data, "t.csv", actor=LEADER)
    assert snapshot(mcon) == before


def test_model_id_cannot_move_to_another_unit(mcon):
    m = models.current_models(mcon, PERIOD).iloc[0]
    other = [u for u in unit_store.units(mcon)["unit_code"] if u != m["unit_code"]][0]
    header = ["Mã mô hình", "Mã đơn vị", "Kỳ", "Tên mô hình", "Lĩnh vực"]
    data = model_csv([[m["model_id"], other, PERIOD, "Chuyển", "Kinh tế"]], header)
    with pytest.raises(UploadRejected) as exc:
        models.import_models_file(mcon, data, "x.csv", actor=STAFF)
    assert "đã thuộc đơn vị" in exc.value.problems[0].reason


def test_template_round_trips_through_xlsx(mcon, tmp_path):
    unit = a_unit(mcon)
    t = models.template_frame({unit: "X"}, PERIOD)
    assert list(t.columns[:5]) == ["Mã mô hình", "Mã đơn vị", "Tên đơn vị", "Kỳ", "Tên mô hình"]
    t.loc[0, "Tên mô hình"] = "Tủ sách cộng đồng"
    t.loc[0, "Lĩnh vực"] = "Văn hóa - xã hội"
    path = tmp_path / "mau.xlsx"
    models.write_template(t, path, "xlsx")
    res = models.import_models_file(mcon, path.read_bytes(), "mau.xlsx", actor=STAFF)
    assert res.new == 1
    got = models.list_models(mcon, PERIOD, unit)
    row = got[got["name"] == "Tủ sách cộng đồng"].iloc[0]
    assert row["field"] == "culture_society" and row["model_id"] == models.auto_model_id(unit, PERIOD,
                                                                                         "Tủ sách cộng đồng")


# --------------------------------------------------------------------------- typed-in points refused
def test_typed_points_for_a_derived_criterion_are_refused(mcon):
    fw2 = periods.framework_for_period(mcon, PERIOD)
    fw1 = periods.framework_for_period(mcon, "2025")
    rows = pd.DataFrame({"unit_code": ["18073", "18073", "18073"], "period": [PERIOD, PERIOD, "2025"],
                         "criterion_code": ["C1", "A3", "C1"], "_row": [2, 3, 4]})
    frameworks = {PERIOD: fw2, "2025": fw1}
    probs = models.refuse_derived(rows, frameworks.get)
    assert [(p.row, p.value) for p in probs] == [(2, "C1")]
    with_values = models.refuse_derived(rows.assign(value=[80.0, 4.0, 80.0]), frameworks, "Mã tiêu chí")
    assert [(p.row, p.column, p.value) for p in with_values] == [(2, "Mã tiêu chí", "C1")]  # the cell in that column is the code
    assert "tính tự động từ sổ mô hình" in probs[0].reason and "--kind models" in probs[0].reason
    assert models.refuse_derived(rows, fw1) == []


# --------------------------------------------------------------------------- definitions
def test_bad_rubric_definitions_are_rejected_with_clear_messages():
    good = yaml.safe_load((ROOT / "data" / "models" / "rubric.yaml").read_text(encoding="utf-8"))
    assert models.parse_rubric(good).total == 100
    bad = json.loads(json.dumps(good))
    bad["items"][0]["max_points"] = 25
    with pytest.raises(models.ModelsError, match="tổng điểm tối đa của các mục phải bằng total = 100, hiện là 105"):
        models.parse_rubric(bad)
    bad = json.loads(json.dumps(good))
    bad["items"][1]["code"] = "novelty"
    with pytest.raises(models.ModelsError, match="mã mục 'novelty' bị trùng"):
        models.parse_rubric(bad)
    bad = json.loads(json.dumps(good))
    bad["items"][2]["max_points"] = 0
    with pytest.raises(models.ModelsError, match="mục 'forces' › max_points: phải lớn hơn 0"):
        models.parse_rubric(bad)
    bad = json.loads(json.dumps(good))
    bad["items"][3]["weight"] = 2
    with pytest.raises(models.ModelsError, match="không được phép"):
        models.parse_rubric(bad)
    fields = yaml.safe_load((ROOT / "data" / "models" / "fields.yaml").read_text(encoding="utf-8"))
    assert len(models.parse_fields(fields).fields) == 6
    fields["fields"][1]["aliases"].append("kt")
    with pytest.raises(models.ModelsError, match="'kt' dùng cho cả lĩnh vực 'economy' và 'culture_society'"):
        models.parse_fields(fields)


def _v2() -> dict:
    return yaml.safe_load(V2.read_text(encoding="utf-8"))


def _crit(data: dict, code: str) -> dict:
    return next(c for g in data["groups"] for c in g["criteria"] if c["code"] == code)


def test_bad_derived_definitions_are_rejected_naming_the_criterion():
    data = _v2()
    _crit(data, "C3")["derived"] = "models_liked"
    with pytest.raises(FrameworkError) as exc:
        parse_framework(data, "v2.yaml")
    msg = str(exc.value)
    assert "nhóm 'C' › tiêu chí 'C3'" in msg and "chỉ số dẫn xuất 'models_liked' không có" in msg
    assert "share_recognised" in msg
    data = _v2()
    _crit(data, "C2")["derived"] = "share_recognised"
    with pytest.raises(FrameworkError, match="tiêu chí 'C2': chỉ số dẫn xuất 'share_recognised' .* cần loại 'ratio'"):
        parse_framework(data, "v2.yaml")
    data = _v2()
    _crit(data, "C1")["evidence_required"] = True
    with pytest.raises(FrameworkError, match="tiêu chí 'C1' được tính từ sổ mô hình nên không nhập minh chứng"):
        parse_framework(data, "v2.yaml")


def test_frameworks_without_derived_serialise_as_before():
    assert '"derived"' not in load_framework(V1).model_dump_json()
    fw2 = load_framework(V2)
    again = parse_framework(json.loads(fw2.model_dump_json()))
    assert models.derived_criteria(again) == models.derived_criteria(fw2)
    v1 = yaml.safe_load((ROOT / "data" / "criteria" / "dvk-2025.v1.yaml").read_text(encoding="utf-8"))
    v2 = _v2()
    for g1, g2 in zip(v1["groups"], v2["groups"]):  # v2 differs only by derived criteria
        for c1, c2 in zip(g1["criteria"], g2["criteria"]):
            if "derived" not in c2:
                assert c1 == c2


# --------------------------------------------------------------------------- demo registry
def test_demo_registry_is_realistic_and_deterministic(mcon):
    m = models.list_models(mcon, PERIOD)
    share = m["field"].value_counts(normalize=True)
    assert share.get("party_building", 0) < 0.03                       # one field almost empty
    assert share["economy"] > 0.3                                      # Can Lộc: economy leads
    s = models.models_summary_by_unit(mcon, PERIOD)
    many = s[s["models_total"] >= 9]
    few = s[(s["models_total"] > 0) & (s["models_total"] <= 4)]
    assert len(many) >= 5 and len(few) >= 5
    assert many["mean_rubric_recognised"].median() < few["mean_rubric_recognised"].median() - 15
    assert set(m["status"]) == set(models.STATUSES)
    h = models.model_history(mcon, PERIOD, m.loc[m["status"] == "recognised", "model_id"].iloc[0])
    assert len(h) == 2 and h["status"].iloc[-1] == "registered"        # registered, then the review
    u = unit_store.units(mcon)
    codes = u.loc[u["province_code"] == PROVINCE, "unit_code"].tolist()
    a = models.demo_registry(codes, {}, [PERIOD], seed=5)[1]
    b = models.demo_registry(codes, {}, [PERIOD], seed=5)[1]
    pd.testing.assert_frame_equal(a, b)
    again = models.generate_demo_models(mcon, seed=5, periods=[PERIOD], provinces=[PROVINCE])
    assert again["new"] == 0                                           # idempotent


def test_summary_filters_units_without_a_model_in_a_field(mcon):
    s = models.models_summary_by_unit(mcon, PERIOD)
    none_party = s[s["n_party_building"] == 0]
    assert len(none_party) > len(s) * 0.8
    assert all("Xây dựng Đảng" in f for f in none_party["fields_missing"])
    c = models.counts_by_field_status(mcon, PERIOD)
    assert len(c) == 6 * 5 and c["models"].sum() == len(models.current_models(mcon, PERIOD))
    best = models.best_models(mcon, PERIOD, 5)
    assert best["rubric_total"].is_monotonic_decreasing and best["status"].isin(models.RECOGNISED).all()
    b = models.derived_breakdown(mcon, PERIOD, s["unit_code"].iloc[0])
    assert list(b["criterion_code"]) == ["C1", "C2", "C3", "C4", "P1"]


# --------------------------------------------------------------------------- CLI
def run(*args):
    env = {k: v for k, v in os.environ.items() if k != "DANVAN_DB"}
    return subprocess.run([DANVAN, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_lists_models_with_the_contract_columns(mdb):
    p = run("models", "--db", str(mdb), "--period", PERIOD, "--format", "csv")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("model_id,unit_code,name,field,kind,status,level,rubric_total")
    df = pd.read_csv(io.StringIO(p.stdout), dtype={"unit_code": str})
    assert len(df) > 100 and set(df["status"]) <= set(models.STATUSES)
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
