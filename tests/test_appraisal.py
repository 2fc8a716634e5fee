"""Appraisal criterion by criterion: accept, another value with a reason, evidence rejected."""

from __future__ import annotations

import pytest
from cycle_support import ADMIN, LEADER, PDF, STAFF, self_assessment_con, two_units, unit_actor  # noqa: F401

from danvan_scoring import appraisal, dossier, evidence, lifecycle
from danvan_scoring.errors import StoreError
from danvan_scoring.permissions import PermissionDenied

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

P = "2025"


def test_reject_evidence_makes_the_criterion_miss_its_evidence(con):
    u, _ = two_units(con)
    me = unit_actor(u)
    dossier.set_self_scores(con, P, u, {"A1": 1}, actor=me)
    evidence.add(con, PDF, file_name="anh.pdf", unit=u, period=P, criterion="A1", actor=me)
    lifecycle.advance(con, P, actor=ADMIN)
    appraisal.appraise(con, P, u, "A1", actor=STAFF, reject_evidence=True, reason="Ảnh không rõ ngày")
    row = dossier.dossier(con, P, u, actor=me).set_index("criterion_code").loc["A1"]
    assert row["missing"] == "minh chứng bị loại"
    seen = appraisal.reviews(con, P, u, actor=me).set_index("criterion_code")
    assert seen.loc["A1", "decision_label"] == "Minh chứng không hợp lệ" and seen.loc["A1", "changed"]


def test_only_appraisers_appraise_and_exactly_one_way(con):
    u, _ = two_units(con)
    lifecycle.advance(con, P, actor=ADMIN)
    for who in (LEADER, unit_actor(u)):
        with pytest.raises(PermissionDenied):
            appraisal.appraise(con, P, u, "A3", actor=who, value=2, reason="x")
    with pytest.raises(StoreError, match="đúng một"):
        appraisal.appraise(con, P, u, "A3", actor=STAFF, accept=True, value=2, reason="x")
    with pytest.raises(StoreError, match="chưa tự chấm"):
        appraisal.appraise(con, P, u, "A3", actor=STAFF, accept=True)
    with pytest.raises(StoreError, match="từ 0 đến 4"):
        appraisal.appraise(con, P, u, "A3", actor=STAFF, value=9, reason="x")


def test_the_minutes_sheet_lists_every_criterion_with_its_reason(con):
    import io

    import pandas as pd

    u, _ = two_units(con)
    dossier.set_self_scores(con, P, u, {"A3": 4}, actor=unit_actor(u))
    lifecycle.advance(con, P, actor=ADMIN)
    appraisal.appraise(con, P, u, "A3", actor=STAFF, value=3, reason="Thiếu 2 biên bản")
    sheet = pd.read_excel(io.BytesIO(appraisal.minutes_xlsx(con, P, u))).set_index("Mã tiêu chí")
    assert sheet.loc["A3", "Điểm tự chấm"] == 4 and sheet.loc["A3", "Điểm thẩm định"] == 3
    assert sheet.loc["A3", "Lý do"] == "Thiếu 2 biên bản"
    assert len(sheet) == len(dossier.dossier(con, P, u, actor=ADMIN))
