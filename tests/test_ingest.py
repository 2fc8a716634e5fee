"""Uploads: the messy-file corpus, every problem reported, whole-file rejection, exports."""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest

from danvan_scoring import batches, ingest, periods, permissions, store
from danvan_scoring.criteria import V2_FRAMEWORK_FILE, load_framework
from danvan_scoring.export import neutralise_formulas, safe_cell
from danvan_scoring.ingest import ScoreRow, import_file, read_upload
from danvan_scoring.permissions import CLI_ACTOR, Actor
from danvan_scoring.templates import template_frame, write_template
from danvan_scoring.uploads import Problem, UploadRejected

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

CORPUS = Path(__file__).parent / "data" / "uploads"
CASES = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
FW = load_framework(V2_FRAMEWORK_FILE)   # the demo's framework (five bands, P4)
TYPED = [code for code, c in FW.criteria.items() if not c.derived]  # derived ones come from the model registry
UNITS = {
    "00004": "Phường Ba Đình",
    "00008": "Phường Ngọc Hà",
    "00097": "Xã Hồng Vân",
    "26734": "Xã Cần Giờ",
    "31012": "Đặc khu Phú Quốc",
}
PERIODS = ["2025", "2025-H1"]


def make_db(con=None):
    con = con or duckdb.connect(":memory:")
    store.migrate(con)
    con.execute("INSERT INTO provinces VALUES ('01', 'Thành phố Hà Nội', 'Hà Nội', NULL, NULL)")
    for code, name in UNITS.items():
        con.execute("INSERT INTO units VALUES (?, ?, ?, 'xa', '01', NULL, NULL, NULL, 'test')", [code, name, name])
    for p in PERIODS:
        periods.add_period(con, p, FW)
    return con


@pytest.fixture
def con():
    c = make_db()
    yield c
    c.close()


def snapshot(con) -> tuple:
    """Everything an import may touch."""
    return (con.execute("SELECT * FROM score_entries ORDER BY ALL").fetchall(),
            con.execute("SELECT batch_id, filename, content_hash FROM batches ORDER BY ALL").fetchall())


def as_tuples(df: pd.DataFrame) -> list[tuple]:
    out = []
    for r in df[ingest.ROW_COLUMNS].itertuples(index=False):
        out.append(tuple(None if (isinstance(v, float) and np.isnan(v) and i != 4) or v is pd.NA else v
                         for i, v in enumerate(r)))
    return sorted(out, key=repr)


def read(name: str, **kw) -> ingest.ParsedUpload:
    return read_upload((CORPUS / name).read_bytes(), name, framework=FW, unit_codes=UNITS, **kw)


# ------------------------------------------------------------------ the corpus
GOOD = [c for c in CASES if c["rows"] is not None]
BAD = [c for c in CASES if c["problems"] is not None]


def _args(c):
    a = dict(c["args"])
    return a


def _match(problems: list[Problem], want: list) -> Problem | None:
    row, column, value, word = want
    for p in problems:
        if p.row == row and p.column == column and (value is None or p.value == value) and word in p.reason:
            return p
    return None


@pytest.mark.parametrize("c", GOOD, ids=[c["file"] for c in GOOD])
def test_good_file_gives_exact_rows(c):
    parsed = read(c["file"], **_args(c))
    assert parsed.problems == [], [p.line() for p in parsed.problems]
    assert parsed.ok
    assert parsed.layout == c["layout"]
    want = sorted((tuple(r) for r in c["rows"]), key=repr)
    assert as_tuples(parsed.rows) == want
    if c["ignored"] is not None:
        assert parsed.ignored_columns == c["ignored"]
    for r in parsed.rows.to_dict("records"):  # the row contract holds for every row
        ScoreRow.model_validate({k: (None if isinstance(v, float) and np.isnan(v) and k != "value" else v)
                                 for k, v in r.items()})
    for col in ("unit_code", "period", "criterion_code", "stage", "evidence", "note"):
        for v in parsed.rows[col].dropna():
            assert unicodedata.is_normalized("NFC", v)


@pytest.mark.parametrize("c", GOOD, ids=[c["file"] for c in GOOD])
def test_good_file_imports_exactly_once(con, c):
    data = (CORPUS / c["file"]).read_bytes()
    args = {k: v for k, v in c["args"].items()}
    res = import_file(con, data, c["file"], actor=CLI_ACTOR, **args)
    assert res.batch_id is not None and res.new == len(c["rows"]) and res.changed == 0
    cur = batches.current_scores(con)
    assert as_tuples(cur) == sorted((tuple(r) for r in c["rows"]), key=repr)
    before = snapshot(con)
    again = import_file(con, data, c["file"], actor=CLI_ACTOR, **args)
    assert again.skipped_duplicate and again.batch_id is None and again.unchanged == len(c["rows"])
    assert snapshot(con) == before


@pytest.mark.parametrize("c", BAD, ids=[c["file"] for c in BAD])
def test_bad_file_is_rejected_whole_with_every_problem(con, c):
    data = (CORPUS / c["file"]).read_bytes()
    before = snapshot(con)
    with pytest.raises(UploadRejected) as info:
        import_file(con, data, c["file"], actor=CLI_ACTOR, **c["args"])
    problems = info.value.problems
    for want in c["problems"]:
        assert _match(problems, want), f"{want} not in {[p.line() for p in problems]}"
    for p in problems:
        assert unicodedata.is_normalized("NFC", p.reason) and "Traceback" not in p.line()
    assert snapshot(con) == before


@pytest.mark.parametrize("c", [c for c in BAD if c["file"] != "unknown_period.csv"],
                         ids=[c["file"] for c in BAD if c["file"] != "unknown_period.csv"])
def test_bad_file_read_upload_reports_without_raising(c):
    parsed = read(c["file"], **c["args"])
    assert not parsed.ok
    for want in c["problems"]:
        assert _match(parsed.problems, want), f"{want} not in {[p.line() for p in parsed.problems]}"


def test_the_corpus_covers_every_required_format():
    names = {c["file"] for c in CASES}
    assert {"long_bom_crlf.csv", "long_utf16_tab.txt", "long_cp1258.csv", "long_semicolon_vi.csv",
            "xlsx_title_rows.xlsx", "xlsx_named_sheet.xlsx", "wide_utf8.csv"} <= names
    assert all((CORPUS / n).exists() for n in names)


# ------------------------------------------------------------------ specific behaviour
def test_problem_line_is_what_the_user_reads():
    assert Problem(7, "diem", "abc", "điểm phải là số").line() == "Dòng 7, cột 'diem': 'abc' — điểm phải là số"
    assert Problem(None, None, None, "tệp trống").line() == "Tệp: tệp trống"
    assert Problem(None, "Z7", None, "lạ").line() == "Cột 'Z7': lạ"
    assert Problem(3, None, "a\tb", "x").line() == "Dòng 3: 'a\\tb' — x"


def test_every_problem_is_listed_then_counted():
    lines = ["unit_code,period,criterion_code,score"] + [f"00004,2025,A3,{i + 10}" for i in range(1500)]
    parsed = read_upload("\n".join(lines).encode(), "x.csv", framework=FW, unit_codes=UNITS)
    assert parsed.problem_count == 1500
    assert len(parsed.problems) == ingest.MAX_LISTED + 1
    assert [p.row for p in parsed.problems[:3]] == [2, 3, 4]
    assert "còn 500 lỗi khác" in parsed.problems[-1].reason


def test_several_problems_on_one_row_are_all_reported():
    data = b"unit_code,period,criterion_code,score\n99999,2025,Q1,abc\n"
    parsed = read_upload(data, "x.csv", framework=FW, unit_codes=UNITS)
    cols = sorted(p.column for p in parsed.problems)
    assert cols == ["criterion_code", "score", "unit_code"]


def test_stage_and_period_arguments_and_column_precedence():
    data = b"unit_code,period,criterion_code,score,stage\n00004,2025,A3,3,\n00004,,A4,2,self\n"
    parsed = read_upload(data, "x.csv", framework=FW, unit_codes=UNITS, period="2025-H1", stage="self")
    got = {(r.criterion_code, r.period, r.stage) for r in parsed.rows.itertuples()}
    assert got == {("A3", "2025", "self"), ("A4", "2025-H1", "self")}
    default = read_upload(b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n", "x.csv",
                          framework=FW, unit_codes=UNITS)
    assert default.rows["stage"].tolist() == ["appraised"]


def test_bad_arguments_are_problems_not_exceptions():
    data = b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n"
    parsed = read_upload(data, "x.csv", framework=FW, unit_codes=UNITS, stage="final", period="20x5")
    assert len(parsed.problems) == 2 and not parsed.ok


def test_unfilled_template_rows_are_skipped_not_errors():
    df = template_frame(FW, UNITS, "2025", "long")
    df.loc[0, "score"] = 1
    buf = io.BytesIO()
    write_template(df, buf, "csv")
    parsed = read_upload(buf.getvalue(), "mau.csv", framework=FW, unit_codes=UNITS)
    assert parsed.ok, [p.line() for p in parsed.problems]
    assert len(parsed.rows) == 1 and parsed.blank_cells == len(df) - 1


@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_round_trip(layout, fmt, tmp_path):
    df = template_frame(FW, UNITS, "2025", layout)
    if layout == "long":
        assert list(df.columns) == ingest.LONG_COLUMNS and len(df) == len(UNITS) * len(TYPED)
        df.loc[df["criterion_code"] == "A3", "score"] = 4.5
    else:
        assert list(df.columns) == ["unit_code", "period", *TYPED] and len(df) == len(UNITS)
        df["A3"] = 4.5
    path = tmp_path / f"mau.{fmt}"
    write_template(df, path, fmt)
    parsed = read_upload(path.read_bytes(), path.name, framework=FW, unit_codes=UNITS)
    assert parsed.ok, [p.line() for p in parsed.problems]
    assert sorted(parsed.rows["unit_code"]) == sorted(UNITS)
    assert set(parsed.rows["criterion_code"]) == {"A3"} and set(parsed.rows["value"]) == {4.5}
    if fmt == "xlsx":  # leading zeros survive because codes are text cells
        ws = openpyxl.load_workbook(path).active
        assert ws["A2"].value == "00004"


def test_template_rejects_unknown_layout():
    with pytest.raises(ValueError):
        template_frame(FW, UNITS, "2025", "tall")


def test_safe_cell_and_neutralise_formulas(tmp_path):
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert [safe_cell(v) for v in ("+1", "-2", "@SUM(A1)", "\tx")] == ["'+1", "'-2", "'@SUM(A1)", "'\tx"]
    assert safe_cell("Xã A") == "Xã A" and safe_cell(-3.5) == -3.5 and safe_cell(None) is None
    df = pd.DataFrame({"name": ["=1+1", "ok"], "value": [-1.0, 2.0], "=x": ["@a", None]})
    out = neutralise_formulas(df)
    assert out["name"].tolist() == ["'=1+1", "ok"] and out["value"].tolist() == [-1.0, 2.0]
    assert list(out.columns) == ["name", "value", "'=x"] and out["'=x"].iloc[0] == "'@a"
    assert df["name"].iloc[0] == "=1+1"  # the input is not changed
    path = tmp_path / "x.xlsx"
    write_template(df, path, "xlsx")
    ws = openpyxl.load_workbook(path).active
    assert ws["A2"].value == "'=1+1" and ws["A2"].data_type == "s"


def test_content_hash_is_sha256_of_the_bytes():
    import hashlib

    data = (CORPUS / "long_utf8.csv").read_bytes()
    assert read(CORPUS.joinpath("long_utf8.csv").name).content_hash == hashlib.sha256(data).hexdigest()


def test_reader_never_raises_on_an_internal_error(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("internal")

    monkeypatch.setattr(ingest._Reader, "_validate", boom)
    parsed = read("long_utf8.csv")
    assert not parsed.ok and "lỗi không mong đợi" in parsed.problems[0].reason


def test_import_dry_run_counts_and_writes_nothing(con):
    data = (CORPUS / "long_utf8.csv").read_bytes()
    import_file(con, data, "a.csv", actor=CLI_ACTOR)
    changed = data.replace(b"A3,4.5", b"A3,4")
    before = snapshot(con)
    res = import_file(con, changed, "b.csv", actor=CLI_ACTOR, dry_run=True)
    assert (res.new, res.changed, res.unchanged, res.batch_id) == (0, 1, 2, None)
    assert snapshot(con) == before
    real = import_file(con, changed, "b.csv", actor=CLI_ACTOR)
    assert real.changed == 1 and real.batch_id is not None
    assert batches.current_scores(con).set_index("criterion_code").loc["A3", "value"] == 4.0


def test_import_reports_progress_and_checks_permission(con):
    seen = []
    data = (CORPUS / "long_utf8.csv").read_bytes()
    import_file(con, data, "a.csv", actor=CLI_ACTOR, progress=lambda f, m: seen.append((f, m)))
    assert seen[0][0] == 0.0 and seen[-1][0] == 1.0 and all(isinstance(m, str) for _, m in seen)
    with pytest.raises(permissions.PermissionDenied):
        import_file(con, data.replace(b"4.5", b"4"), "a.csv", actor=Actor("lanhdao", "leader"))


def test_unit_list_empty_says_so():
    parsed = read_upload((CORPUS / "long_utf8.csv").read_bytes(), "a.csv", framework=FW, unit_codes={})
    assert "danh sách đơn vị đang trống" in parsed.problems[0].reason


def test_sheet_that_does_not_exist_lists_the_sheets():
    parsed = read("xlsx_named_sheet.xlsx", sheet="Không có")
    assert "'Hướng dẫn', 'Thẩm định'" in parsed.problems[0].reason
    first = read("xlsx_named_sheet.xlsx")  # first sheet has no header: say which sheets exist
    assert not first.ok and "Thẩm định" in first.problems[0].reason


def test_wide_periods_with_different_frameworks_are_each_checked():
    """A criterion is judged by the framework of its row's period."""
    other = FW.model_copy(deep=True)
    data = b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n00004,2025-H1,A3,3\n"
    calls = []

    def framework_for(p):
        calls.append(p)
        return FW if p == "2025" else "Không có kỳ đánh giá '2025-H1'"

    parsed = ingest._read_safely(data, "x.csv", framework_for, UNITS, None, None, None, ingest.MAX_BYTES)
    assert [p.row for p in parsed.problems] == [3] and "2025-H1" in parsed.problems[0].reason
    assert other is not None and set(calls) >= {"2025", "2025-H1"}


def test_decimal_comma_in_a_quoted_cell_of_a_comma_file():
    data = b'unit_code,period,criterion_code,score\n00004,2025,A3,"4,5"\n00008,2025,D4,"1,000"\n'
    parsed = read_upload(data, "x.csv", framework=FW, unit_codes=UNITS)
    assert parsed.rows["value"].tolist() == [4.5]
    assert [(p.row, p.value) for p in parsed.problems] == [(3, "1,000")]


# ------------------------------------------------------------------ "không phát sinh" (issue 12, point 3)
def _na_framework():
    import yaml

    from danvan_scoring.criteria import parse_framework

    data = yaml.safe_load((Path(__file__).resolve().parent.parent / "data" / "criteria" / "dvk-2025.v2.yaml")
                          .read_text(encoding="utf-8"))
    data["version"] = 90
    for g in data["groups"]:
        for c in g["criteria"]:
            if c["code"] in ("B4", "D4"):
                c["allow_na"] = True
    return parse_framework(data)


def test_na_words_are_accepted_for_allow_na_criteria_and_stored_as_not_applicable(con):
    periods.add_period(con, "2026", _na_framework())
    text = ("unit_code,period,criterion_code,score\n00004,2026,B4,kps\n00008,2026,B4,Không phát sinh\n"
            "00097,2026,B4,NA\n26734,2026,D4,n/a\n31012,2026,B4,KHONG PHAT SINH\n").encode()
    res = import_file(con, text, "na.csv", actor=CLI_ACTOR)
    assert res.new == 5
    cur = batches.current_scores(con, "2026")
    assert cur["value"].isna().all() and len(cur) == 5
    again = import_file(con, text, "na-lan-2.csv", actor=CLI_ACTOR)
    assert again.new == 0 and again.changed == 0     # the same N/A again changes nothing
    # a number replaces an N/A, and undo brings the N/A back
    fix = import_file(con, b"unit_code,period,criterion_code,score\n00004,2026,B4,80\n", "fix.csv", actor=CLI_ACTOR)
    assert fix.changed == 1
    batches.undo_batch(con, fix.batch_id, actor=CLI_ACTOR)
    assert np.isnan(batches.current_scores(con, "2026").set_index("unit_code").at["00004", "value"])


def test_na_words_are_refused_for_other_criteria_with_row_and_column(con):
    periods.add_period(con, "2026", _na_framework())
    text = "unit_code,period,A3,B4\n00004,2026,kps,NA\n00008,2026,4,không phát sinh\n".encode()
    before = snapshot(con)
    with pytest.raises(UploadRejected) as exc:
        import_file(con, text, "na-sai.csv", actor=CLI_ACTOR)
    probs = exc.value.problems
    assert len(probs) == 1 and probs[0].row == 2 and probs[0].column == "A3"
    assert "không nhận 'không phát sinh'" in probs[0].reason
    assert snapshot(con) == before
    # the v2 period of the same file has no allow_na criterion at all
    with pytest.raises(UploadRejected):
        import_file(con, b"unit_code,period,criterion_code,score\n00004,2025,B4,kps\n", "v2.csv", actor=CLI_ACTOR)
