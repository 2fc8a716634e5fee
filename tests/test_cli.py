"""The `danvan` command as a user runs it: a real process, a real database file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DANVAN = str(Path(sys.executable).with_name("danvan"))


def run(*args, db=None, input=None, env_db=None):
    env = {k: v for k, v in os.environ.items() if k != "DANVAN_DB"}
    if env_db:
        env["DANVAN_DB"] = str(env_db)
    cmd = [DANVAN, *args] + (["--db", str(db)] if db else [])
    return subprocess.run(cmd, capture_output=True, text=True, input=input, env=env, timeout=120)


def no_traceback(p):
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "d.duckdb"
    p = run("init", db=db)
    assert p.returncode == 0, p.stderr
    p = run("demo", db=db)
    assert p.returncode == 0, p.stderr
    assert "MINH HỌA" in p.stdout
    return db


def test_init_twice_changes_nothing(tmp_path):
    db = tmp_path / "x.duckdb"
    assert run("init", db=db).returncode == 0
    units1 = run("units", "--format", "csv", db=db).stdout
    p = run("init", db=db)
    assert p.returncode == 0 and "thêm 0 đơn vị" in p.stdout
    assert run("units", "--format", "csv", db=db).stdout == units1


def test_env_var_sets_the_database(cli_db):
    p = run("rank", "--period", "2025", "--format", "csv", env_db=cli_db)
    assert p.returncode == 0 and p.stdout.startswith("rank,unit_code,unit_name,total,tier,block,block_rank")


def test_rank_totals_follow_the_default_profile_rule(cli_db):
    """total = Σ appraised points of ordinary criteria + bonus − penalty, clamped to 0–100."""
    rank = pd.read_csv(io.StringIO(run("rank", "--period", "2025", "--format", "csv", db=cli_db).stdout),
                       dtype={"unit_code": str})
    crit = pd.read_csv(io.StringIO(run("criteria", "--period", "2025", "--format", "csv", db=cli_db).stdout))
    scores = pd.read_csv(io.StringIO(run("scores", "--period", "2025", "--stage", "appraised", "--format", "csv",
                                         db=cli_db).stdout), dtype={"unit_code": str})
    assert list(rank.columns[:7]) == ["rank", "unit_code", "unit_name", "total", "tier", "block", "block_rank"]
    assert {"A", "B", "C", "D", "E"} <= set(rank.columns)
    assert list(crit.columns[:5]) == ["criterion_code", "group_code", "name", "max_points", "kind"]
    assert list(scores.columns[:5]) == ["unit_code", "period", "criterion_code", "stage", "score"]
    df = scores.merge(crit, on="criterion_code")
    v = df["score"]
    pts = np.select([df.kind == "pass_fail", df.kind == "ratio", df.kind == "count"],
                    [np.where(v >= 1, df.max_points, 0), df.max_points * np.minimum(1, v / df.target),
                     np.minimum(df.max_points, v * df.per_unit)], np.minimum(df.max_points, v))
    pts = np.where(df.kind == "penalty", -pts, pts)
    expected = pd.Series(pts).groupby(df["unit_code"].to_numpy()).sum().clip(0, 100).round(2)
    got = rank.set_index("unit_code")["total"]
    assert np.allclose(got.loc[expected.index], expected, atol=0.006)
    ranked = rank.dropna(subset=["rank"])
    assert ranked["rank"].is_monotonic_increasing
    unranked = rank[rank["rank"].isna()]
    assert (unranked["tier"] == "chưa đủ dữ liệu").all() and (unranked["status"] == "incomplete").all()
    assert rank["eligible"].sum() == len(ranked) > 100
    # rank within the province: the same rule on the province's own units
    units = pd.read_csv(io.StringIO(run("units", "--format", "csv", db=cli_db).stdout), dtype=str)
    prov = ranked.merge(units[["unit_code", "province_code"]], on="unit_code")
    assert prov["province_code"].nunique() >= 2
    for _, part in prov.groupby("province_code"):
        expect = part["total"].rank(method="min", ascending=False).astype(int)
        assert (part["province_rank"].astype(int) == expect).all()
    # missing data is "incomplete", not a sanction
    assert set(rank["status"]) <= {"ranked", "incomplete", "not_eligible"}
    assert (rank["status"] == "ranked").sum() == len(ranked) and (rank["status"] == "incomplete").any()
    # a veto bars the award and the block lead, not the rank
    assert {"award_eligible", "award_reason", "block_leader"} <= set(rank.columns)
    assert (rank.groupby("block")["block_leader"].sum() <= 1).all() and rank["block_leader"].sum() > 0
    assert rank.loc[rank["block_leader"], "award_eligible"].all()
    assert rank.loc[~rank["award_eligible"], "award_reason"].notna().all()
    # the self-assessed tier sits beside the appraised one
    has_self = rank["total_self"].notna() & rank["eligible"]
    assert rank.loc[has_self, "tier_self"].notna().all() and rank.loc[~rank["total_self"].notna(), "tier_self"].isna().all()


def test_rank_json_and_profile(cli_db):
    import json

    p = run("rank", "--period", "2024", "--format", "json", "--profile", "mac-dinh", db=cli_db)
    data = json.loads(p.stdout)
    assert data[0]["rank"] == 1 and "tier" in data[0] and "A" in data[0]
    p = run("rank", "--period", "2024", "--profile", "khong-co", db=cli_db)
    assert p.returncode == 1 and "Không có bộ trọng số 'khong-co'" in p.stderr
    no_traceback(p)


def test_units_filter_and_blocks(cli_db):
    df = pd.read_csv(io.StringIO(run("units", "--province", "42", "--format", "csv", db=cli_db).stdout),
                     dtype=str)
    assert list(df.columns[:5]) == ["unit_code", "name", "unit_type", "province_code", "block"]
    assert len(df) == 69 and (df["province_code"] == "42").all() and df["block"].notna().all()
    p = run("units", "--province", "99", db=cli_db)
    assert p.returncode == 1 and "Không có tỉnh mã '99'" in p.stderr


def test_batches_and_undo(cli_db, tmp_path):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(cli_db, db)
    out = run("batches", "--format", "csv", db=db).stdout
    assert out.splitlines()[0].startswith("batch_id,kind,actor")
    p = run("undo", "1", db=db)
    assert p.returncode == 0 and "Đã hoàn tác lô số 1" in p.stdout
    assert run("scores", "--period", "2025", db=db).stdout.count("\n") == 1   # header only
    p = run("undo", "1", db=db)
    assert p.returncode == 1 and "đã được hoàn tác" in p.stderr
    p = run("undo", "999", db=db)
    assert p.returncode == 1 and "Không có lô nhập số 999" in p.stderr


@pytest.mark.parametrize("args, code, fragment", [
    (["rank"], 2, "thiếu tham số bắt buộc: --period"),
    (["rank", "--period", "2025", "--format", "xml"], 2, "lựa chọn không hợp lệ"),
    (["frobnicate"], 2, "lựa chọn không hợp lệ"),
    (["rank", "--period", "1999"], 1, "Không có kỳ đánh giá '1999'"),
    (["undo", "abc"], 2, "không phải số nguyên"),
    (["uncertainty", "--period", "2025", "--draws", "0"], 1, "--draws"),
])
def test_bad_arguments_one_line_no_traceback(cli_db, args, code, fragment):
    p = run(*args, db=cli_db)
    assert p.returncode == code, (p.returncode, p.stderr)
    assert fragment in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    no_traceback(p)


def test_missing_database(tmp_path):
    p = run("rank", "--period", "2025", db=tmp_path / "none.duckdb")
    assert p.returncode == 1 and "danvan init" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    no_traceback(p)


def test_locked_database(cli_db):
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok',flush=True); "
                               "time.sleep(60)", str(cli_db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        p = run("rank", "--period", "2025", db=cli_db)
        assert p.returncode == 1
        assert "đang được một chương trình khác mở" in p.stderr and "Ctrl+C" in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
        no_traceback(p)
    finally:
        holder.kill()
        holder.wait()


def test_user_add_with_password_stdin(tmp_path):
    db = tmp_path / "u.duckdb"
    run("init", db=db)
    p = run("user", "add", "nguyenvanb", "--role", "council", "--password-stdin", db=db, input="s3cret-dai-hon-12\n")
    assert p.returncode == 0, p.stderr
    from danvan_scoring import auth, store

    con = store.connect(db)
    try:
        assert auth.authenticate(con, "nguyenvanb", "s3cret-dai-hon-12", sleep=lambda s: None).role == "council"
    finally:
        con.close()
    p = run("user", "add", "x", "--role", "king", "--password-stdin", db=db, input="pw12\n")
    assert p.returncode == 2 and "lựa chọn không hợp lệ" in p.stderr


def test_period_add(tmp_path):
    db = tmp_path / "p.duckdb"
    run("init", db=db)
    p = run("period", "add", "2026-H1", db=db)
    assert p.returncode == 0 and "dvk-xa@3" in p.stdout       # a new period gets framework v3
    listed = pd.read_csv(io.StringIO(run("period", "list", db=db).stdout), dtype=str).set_index("period")
    assert listed.at["2026-H1", "framework_version"] == "3"
    crit = pd.read_csv(io.StringIO(run("criteria", "--period", "2026-H1", "--format", "csv", db=db).stdout))
    assert set(crit.loc[crit["allow_na"].astype(str) == "True", "criterion_code"]) == {"B4", "B5", "D4"}
    assert "P4" not in set(crit["criterion_code"])
    p = run("period", "add", "hai nghìn", db=db)
    assert p.returncode == 1 and "không hợp lệ" in p.stderr


def test_every_command_is_documented_in_the_readme():
    """The README's CLI table cannot drift from the parser."""
    import argparse

    from danvan_scoring.cli import build_parser
    from danvan_scoring.paths import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert f"`danvan {name}" in readme, f"danvan {name} is not in README.md"


def test_readme_commands_match_ci():
    from danvan_scoring.paths import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in readme and "bash scripts/start.sh" in readme
    assert "exec bash scripts/test.sh" in ci


def test_unit_add_agency(tmp_path):
    db = tmp_path / "a.duckdb"
    run("init", db=db)
    p = run("unit", "add", "CQ4201", "--name", "Ban Tuyên giáo và Dân vận Tỉnh ủy", "--province", "42", db=db)
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(io.StringIO(run("units", "--province", "42", db=db).stdout), dtype=str)
    row = df.set_index("unit_code").loc["CQ4201"]
    assert row["unit_type"] == "co_quan" and row["block"] == "42-CQ"
    p = run("unit", "add", "CQ4201", "--name", "x", "--province", "42", db=db)
    assert p.returncode == 1 and "đã tồn tại" in p.stderr
    p = run("unit", "add", "CQ9", "--name", "x", "--province", "77", db=db)
    assert p.returncode == 1 and "Không có tỉnh mã '77'" in p.stderr


def test_serve_builds_no_demo_for_a_missing_database(tmp_path):
    missing = tmp_path / "go-nham" / "danvan.duckdb"
    p = run("serve", "--port", "8639", db=missing)
    assert p.returncode != 0 and "Không tìm thấy cơ sở dữ liệu" in p.stderr
    no_traceback(p)
    assert not missing.exists() and not missing.parent.exists()
    # start.sh's flag holds for the default data/danvan.duckdb only, not for a typo in --db
    env_flag = subprocess.run([DANVAN, "serve", "--port", "8639", "--db", str(missing)], capture_output=True,
                              text=True, timeout=120, env=dict(os.environ, DANVAN_BUILD_DEMO="1"))
    assert env_flag.returncode != 0 and not missing.exists()


def test_serve_listens_on_loopback_by_default():
    from danvan_scoring.cli import build_parser

    assert build_parser().parse_args(["serve"]).address == "127.0.0.1"
    assert build_parser().parse_args(["serve", "--address", "0.0.0.0"]).address == "0.0.0.0"
    assert build_parser().parse_args(["serve", "--no-demo"]).no_demo   # still accepted


def test_demo_refuses_a_database_with_real_users(tmp_path):
    db = tmp_path / "that.duckdb"
    assert run("init", db=db).returncode == 0
    assert run("user", "add", "nguyenvana", "--role", "admin", "--password-stdin", db=db,
               input="mat-khau-that-dai\n").returncode == 0
    p = run("demo", db=db)
    assert p.returncode != 0 and "tài khoản thật" in p.stderr
    no_traceback(p)
    p = run("demo", "--force", db=db)
    assert p.returncode == 0, p.stderr
    assert "không thêm tài khoản mẫu" in p.stdout
    users = run("user", "list", db=db).stdout
    assert "nguyenvana" in users and "quantri" not in users


def test_user_passwd_resets_and_refuses_short(tmp_path):
    db = tmp_path / "pw.duckdb"
    run("init", db=db)
    assert run("user", "add", "nguyenvand", "--role", "staff", "--password-stdin", db=db,
               input="mat-khau-ban-dau\n").returncode == 0
    p = run("user", "add", "ngan", "--role", "admin", "--password-stdin", db=db, input="    \n")
    assert p.returncode == 1 and "ít nhất 12 ký tự" in p.stderr
    no_traceback(p)
    p = run("user", "passwd", "nguyenvand", "--password-stdin", db=db, input="ngan\n")
    assert p.returncode == 1 and "ít nhất 12 ký tự" in p.stderr
    p = run("user", "passwd", "khongco", "--password-stdin", db=db, input="mat-khau-moi-dai\n")
    assert p.returncode == 1 and "Không có tài khoản" in p.stderr
    p = run("user", "passwd", "nguyenvand", "--password-stdin", db=db, input="mat-khau-moi-dai\n")
    assert p.returncode == 0 and "Đã đặt lại mật khẩu" in p.stdout, p.stderr
    from danvan_scoring import auth, store

    con = store.connect(db)
    try:
        assert "ngan" not in set(auth.users(con)["username"])
        assert auth.authenticate(con, "nguyenvand", "mat-khau-ban-dau", sleep=lambda s: None) is None
        assert auth.authenticate(con, "nguyenvand", "mat-khau-moi-dai", sleep=lambda s: None) is not None
    finally:
        con.close()


@pytest.mark.parametrize("code,name,fragment", [
    ("", "Ban Dân vận", "Mã đơn vị"),
    ("C" * 5000, "Ban Dân vận", "Mã đơn vị"),
    ("CQ'1", "Ban Dân vận", "Mã đơn vị"),
    ("CQ;1", "Ban Dân vận", "Mã đơn vị"),
    ("CQ\n1", "Ban Dân vận", "Mã đơn vị"),
    ("CQ4299", "x" * 100_000, "Tên đơn vị"),
    ("CQ4299", "Ban \u202eDân vận", "đảo chiều"),
    ("CQ4299", "Ban\x07 Dân vận", "điều khiển"),
])
def test_unit_add_refuses_bad_code_or_name(cli_db, code, name, fragment):
    p = run("unit", "add", code, "--name", name, "--province", "42", db=cli_db)
    assert p.returncode == 1 and fragment in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    no_traceback(p)
    assert "CQ4299" not in run("units", "--province", "42", db=cli_db).stdout


def test_locked_by_a_danvan_command_names_it(cli_db, hold_db):
    """The holder is a real second process whose command line is `danvan import …`."""
    with hold_db(cli_db, "danvan", "import", "diem.csv") as holder:
        p = run("rank", "--period", "2025", db=cli_db)
        assert p.returncode == 1
        assert "lệnh danvan import" in p.stderr and f"PID {holder.pid}" in p.stderr, p.stderr
        assert "bảng điều khiển" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
        no_traceback(p)


def test_the_whole_cycle_through_the_cli(tmp_path):
    """init → self-assessment (evidence, submit) → appraisal → provisional → objections → decided → locked."""
    from cycle_support import HTML, PDF

    db = tmp_path / "c.duckdb"
    env_ev = {"DANVAN_EVIDENCE_DIR": str(tmp_path / "ev")}
    os.environ.update(env_ev)
    try:
        assert run("init", db=db).returncode == 0
        unit = "00004"
        p = run("period", "status", "2025", db=db)
        assert p.returncode == 0 and "(open)" in p.stdout
        p = run("submit", "--period", "2025", "--unit", unit, db=db)
        assert p.returncode == 1 and "period advance" in p.stderr and p.stderr.count("\n") == 1
        assert run("period", "advance", "2025", "--deadline", "2999-12-31", db=db).returncode == 0
        pdf = tmp_path / "qd.pdf"
        pdf.write_bytes(PDF)
        p = run("evidence", "add", str(pdf), "--unit", unit, "--period", "2025", "--criterion", "A1", db=db)
        assert p.returncode == 0, p.stderr
        fake = tmp_path / "bao-cao.pdf"
        fake.write_bytes(HTML)                      # the name says PDF, the bytes say HTML
        p = run("evidence", "add", str(fake), "--unit", unit, "--period", "2025", "--criterion", "A1", db=db)
        assert p.returncode == 1 and "HTML" in p.stderr
        p = run("evidence", "list", "--period", "2025", "--format", "csv", db=db)
        listed = pd.read_csv(io.StringIO(p.stdout), dtype=str)
        assert listed.columns.tolist() == ["evidence_id", "unit_code", "period", "criterion_code", "file_name", "size",
                                           "sha256", "mime", "uploaded_by", "uploaded_at"]
        assert listed["file_name"].tolist() == ["qd.pdf"]
        out = tmp_path / "back.pdf"
        assert run("evidence", "get", listed["evidence_id"][0], "-o", str(out), db=db).returncode == 0
        assert out.read_bytes() == PDF
        csv = tmp_path / "self.csv"
        csv.write_text(f"unit_code,period,criterion_code,score,stage\n{unit},2025,A3,4,self\n", encoding="utf-8")
        assert run("import", str(csv), db=db).returncode == 0
        assert run("submit", "--period", "2025", "--unit", unit, db=db).returncode == 0
        p = run("import", str(csv), db=db)
        assert p.returncode != 0 and "đã nộp" in p.stderr
        assert run("period", "advance", "2025", db=db).returncode == 0
        p = run("appraise", "--period", "2025", "--unit", unit, "--criterion", "A3", "--value", "3", db=db)
        assert p.returncode == 1 and "lý do" in p.stderr
        p = run("appraise", "--period", "2025", "--unit", unit, "--criterion", "A3", "--value", "3",
                "--reason", "Thiếu biên bản", db=db)
        assert p.returncode == 0, p.stderr
        sheet = tmp_path / "bb.xlsx"
        assert run("minutes", "--period", "2025", "--unit", unit, "--format", "xlsx", "-o", str(sheet),
                   db=db).returncode == 0
        minutes = pd.read_excel(sheet)
        assert minutes.set_index("Mã tiêu chí").loc["A3", "Lý do"] == "Thiếu biên bản"
        assert run("period", "advance", "2025", db=db).returncode == 0           # provisional
        assert run("period", "advance", "2025", db=db).returncode == 0           # objections
        p = run("objection", "add", "--period", "2025", "--unit", unit, "--criterion", "A3", "--text",
                "Có đủ biên bản", db=db)
        assert p.returncode == 0, p.stderr
        p = run("period", "advance", "2025", db=db)
        assert p.returncode == 1 and "kiến nghị" in p.stderr
        p = run("objection", "list", "--period", "2025", "--format", "csv", db=db)
        obj = pd.read_csv(io.StringIO(p.stdout), dtype=str)
        assert obj.columns.tolist() == ["objection_id", "unit_code", "criterion_code", "status", "filed_by",
                                        "filed_at", "text", "resolution"]
        assert run("objection", "resolve", obj["objection_id"][0], "--reject", "--text", "Không có căn cứ",
                   db=db).returncode == 0
        assert run("period", "advance", "2025", db=db).returncode == 0           # decided
        assert run("period", "advance", "2025", db=db).returncode == 0           # locked
        p = run("import", str(csv), db=db)
        assert p.returncode != 0 and "Đã khóa" in p.stderr and "reopen" in p.stderr
        p = run("period", "reopen", "2025", "--to", "decided", "--reason", "Sửa lỗi đánh máy", db=db)
        assert p.returncode == 0, p.stderr
        p = run("period", "status", "2025", db=db)
        assert "Sửa lỗi đánh máy" in p.stdout and "(decided)" in p.stdout
    finally:
        for k in env_ev:
            os.environ.pop(k, None)


def test_user_add_unit_account(tmp_path):
    db = tmp_path / "u.duckdb"
    assert run("init", db=db).returncode == 0
    p = run("user", "add", "xa_00004", "--role", "unit", "--unit", "00004", "--password-stdin", db=db,
            input="mat-khau-du-dai\n")
    assert p.returncode == 0, p.stderr
    p = run("user", "add", "xa_x", "--role", "unit", "--password-stdin", db=db, input="mat-khau-du-dai\n")
    assert p.returncode == 1 and "--unit" in p.stderr
    from danvan_scoring import auth, store

    con = store.connect(db)
    assert auth.authenticate(con, "xa_00004", "mat-khau-du-dai", sleep=lambda s: None).unit_code == "00004"
    con.close()
