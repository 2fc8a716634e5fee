"""The council's votes on award proposals, and the `danvan awards` / `danvan vote` commands."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from test_cli import no_traceback, run

from danvan_scoring import store
from danvan_scoring.permissions import Actor, PermissionDenied
from danvan_scoring.proposals import ALL_COLUMNS, COLUMNS
from danvan_scoring.votes import VoteRefused, decided, period_proposals, record_vote, votes

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

COUNCIL = Actor("hoidong", "council")


def test_a_vote_passes_above_the_threshold_and_the_latest_counts(demo_con):
    p = period_proposals(demo_con, "2025")
    first = p[p["outcome"] == "proposed"].iloc[0]
    v = record_vote(demo_con, "2025", first.unit_code, first.award_code, 6, 5, 0, actor=COUNCIL, proposals=p)
    assert v["passed"] and v["threshold"] == 0.5
    assert decided(demo_con, "2025", proposals=p)[["unit_code", "award_code"]].values.tolist() == [
        [first.unit_code, first.award_code]]
    v = record_vote(demo_con, "2025", first.unit_code, first.award_code, 5, 5, 0, actor=COUNCIL, proposals=p)
    assert not v["passed"]            # exactly half is not more than half
    assert decided(demo_con, "2025", proposals=p).empty
    assert len(votes(demo_con, "2025")) == 1
    log = store.audit_log(demo_con)
    assert (log["action"] == "awards.vote").sum() == 2


@pytest.mark.parametrize("unit, award, counts, words", [
    (None, None, (-1, 0, 0), "số phiếu đồng ý phải lớn hơn hoặc bằng 0"),
    (None, None, (0, 0, 0), "tổng số phiếu bằng 0"),
    ("99999", None, (3, 0, 0), "không có trong danh sách đề nghị"),
    (None, "khong_co", (3, 0, 0), "Không có hình thức khen thưởng mã 'khong_co'"),
])
def test_a_refused_vote_says_why_in_vietnamese_and_writes_nothing(demo_con, unit, award, counts, words):
    p = period_proposals(demo_con, "2025")
    first = p[p["outcome"] == "proposed"].iloc[0]
    before = store.data_version(demo_con)
    with pytest.raises(VoteRefused, match=words) as exc:
        record_vote(demo_con, "2025", unit or first.unit_code, award or first.award_code, *counts, actor=COUNCIL,
                    proposals=p)
    assert "Không có gì được ghi" in str(exc.value)
    assert store.data_version(demo_con) == before and votes(demo_con, "2025").empty


def test_a_unit_cut_by_a_cap_cannot_be_voted(demo_con):
    p = period_proposals(demo_con, "2025")
    cut = p[p["outcome"] == "cut"].iloc[0]
    if ((p["unit_code"] == cut.unit_code) & (p["award_code"] == cut.award_code) & (p["outcome"] == "proposed")).any():
        pytest.skip("the cut unit is also proposed for this award")
    with pytest.raises(VoteRefused, match="bị cắt do chỉ tiêu"):
        record_vote(demo_con, "2025", cut.unit_code, cut.award_code, 9, 0, 0, actor=COUNCIL, proposals=p)


def test_a_leader_may_not_record_a_vote(demo_con):
    p = period_proposals(demo_con, "2025")
    first = p[p["outcome"] == "proposed"].iloc[0]
    with pytest.raises(PermissionDenied, match="biểu quyết khen thưởng"):
        record_vote(demo_con, "2025", first.unit_code, first.award_code, 9, 0, 0, actor=Actor("ld", "leader"),
                    proposals=p)
    assert votes(demo_con, "2025").empty


def test_awards_and_vote_commands_keep_the_contract(demo_db):
    p = run("awards", "--period", "2025", db=demo_db)
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(io.StringIO(p.stdout), dtype=str)
    assert list(table.columns) == COLUMNS
    assert not table.duplicated(["unit_code", "award_code"]).any()
    every = pd.read_csv(io.StringIO(run("awards", "--period", "2025", "--all", db=demo_db).stdout), dtype=str)
    assert list(every.columns) == ALL_COLUMNS and list(every.columns[:len(COLUMNS)]) == COLUMNS
    assert (every["outcome"] == "cut").any() and every.loc[every["outcome"] == "cut", "reason"].notna().all()
    assert len(every[every["outcome"] == "proposed"]) == len(table)
    js = json.loads(run("awards", "--period", "2025", "--format", "json", db=demo_db).stdout)
    assert [r["unit_code"] for r in js] == table["unit_code"].tolist()

    first = table.iloc[0]
    p = run("vote", "--period", "2025", "--unit", first.unit_code, "--award", first.award_code,
            "--for", "7", "--against", "2", "--abstain", "1", db=demo_db)
    assert p.returncode == 0 and "THÔNG QUA" in p.stdout, p.stderr
    p = run("vote", "--period", "2025", "--unit", first.unit_code, "--award", first.award_code,
            "--for", "-3", "--against", "2", "--abstain", "1", db=demo_db)
    assert p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1 and "phiếu" in p.stderr
    no_traceback(p)
    done = pd.read_csv(io.StringIO(run("awards", "--period", "2025", "--decided", db=demo_db).stdout), dtype=str)
    assert list(done.columns) == COLUMNS
    assert done[["unit_code", "award_code"]].values.tolist() == [[first.unit_code, first.award_code]]
