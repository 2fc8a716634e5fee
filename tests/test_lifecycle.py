"""The period's lifecycle: states in order, what each allows, advance/reopen, refusals written down."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from cycle_support import ADMIN, CHAIR, COUNCIL, PDF, STAFF, two_units, unit_actor

from danvan_scoring import appraisal, batches, blocks, dossier, evidence, lifecycle, objections, store, weights
from danvan_scoring.errors import StateRefused
from danvan_scoring.permissions import PermissionDenied

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

P = "2025"


@pytest.fixture
def con(empty_con, tmp_path, monkeypatch):
    monkeypatch.setenv("DANVAN_EVIDENCE_DIR", str(tmp_path / "ev"))
    return empty_con


def _denials(con) -> int:
    return con.execute("SELECT count(*) FROM audit_log WHERE action LIKE 'denied:%'").fetchone()[0]


def _rows(u, stage="self", crit="A3", value=5.0):
    return pd.DataFrame([{"unit_code": u, "period": P, "criterion_code": crit, "stage": stage, "value": value,
                          "evidence": None, "note": None}])


def test_a_new_period_is_open_and_every_existing_write_is_allowed(con):
    assert lifecycle.state(con, P).state == "open"
    u, _ = two_units(con)
    assert batches.write_batch(con, _rows(u), actor=STAFF, filename=None, content_hash=None).written == 1
    assert batches.write_batch(con, _rows(u, "appraised"), actor=STAFF, filename=None, content_hash=None).written == 1


def test_advance_walks_the_states_in_order_and_stops_at_locked(con):
    seen = [lifecycle.advance(con, P, actor=ADMIN).state for _ in lifecycle.CYCLE]
    assert seen == list(lifecycle.CYCLE)
    with pytest.raises(StateRefused, match="đã khóa"):
        lifecycle.advance(con, P, actor=ADMIN)


def test_only_the_chair_or_admin_moves_a_period(con):
    with pytest.raises(PermissionDenied):
        lifecycle.advance(con, P, actor=COUNCIL)
    with pytest.raises(PermissionDenied):
        lifecycle.advance(con, P, actor=STAFF)
    assert lifecycle.advance(con, P, actor=CHAIR).state == "self_assessment"
    assert lifecycle.reopen(con, P, "open", actor=CHAIR, reason="thử").state == "open"


def test_reopen_needs_a_reason_goes_only_back_and_is_listed(con):
    lifecycle.advance(con, P, actor=ADMIN)
    lifecycle.advance(con, P, actor=ADMIN)
    with pytest.raises(store.StoreError, match="lý do"):
        lifecycle.reopen(con, P, "self_assessment", actor=ADMIN, reason=" ")
    with pytest.raises(StateRefused, match="lùi"):
        lifecycle.reopen(con, P, "decided", actor=ADMIN, reason="x")
    lifecycle.reopen(con, P, "self_assessment", actor=ADMIN, reason="Gia hạn cho xã vùng lũ")
    back = lifecycle.reopenings(con, P)
    assert back["reason"].tolist() == ["Gia hạn cho xã vùng lũ"]
    assert back["to_state"].tolist() == ["self_assessment"]


@pytest.mark.parametrize("state, refused", [
    ("self_assessment", "appraised"), ("appraisal", "self"), ("provisional", "self"),
    ("provisional", "appraised"), ("decided", "appraised"), ("locked", "self")])
def test_a_score_write_in_the_wrong_state_is_refused_written_down_and_writes_nothing(con, state, refused):
    u, _ = two_units(con)
    while lifecycle.state(con, P).state != state:
        lifecycle.advance(con, P, actor=ADMIN)
    before = batches.current_scores(con, P)
    n = _denials(con)
    with pytest.raises(StateRefused) as exc:
        batches.write_batch(con, _rows(u, refused), actor=STAFF, filename=None, content_hash=None)
    msg = str(exc.value)
    assert "\n" not in msg and lifecycle.STATE_LABELS[state] in msg and "danvan period" in msg
    assert batches.current_scores(con, P).equals(before)
    assert _denials(con) == n + 1


def test_locked_refuses_everything_and_decided_allows_only_publishing(con):
    for _ in range(5):
        lifecycle.advance(con, P, actor=ADMIN)
    assert lifecycle.state(con, P).state == "decided"
    assert lifecycle.refusal(con, P, "publish") is None
    for act in set(lifecycle.ACTIVITIES) - {"publish"}:
        assert lifecycle.refusal(con, P, act, ["x"]) is not None, act
    lifecycle.advance(con, P, actor=ADMIN)
    assert all(lifecycle.refusal(con, P, act, ["x"]) for act in lifecycle.ACTIVITIES)
    with pytest.raises(StateRefused):
        blocks.set_blocks(con, P, pd.DataFrame(columns=["block_code", "name", "province_code"]),
                          pd.DataFrame(columns=["unit_code", "block_code"]), actor=ADMIN)


def test_self_scores_stop_at_submission_and_at_the_deadline(con):
    u, v = two_units(con)
    lifecycle.advance(con, P, actor=ADMIN, deadline=date.today() + timedelta(days=10))
    assert lifecycle.state(con, P).days_left() == 10
    dossier.set_self_scores(con, P, u, {"A3": 4}, actor=unit_actor(u))
    lifecycle.submit(con, P, u, actor=unit_actor(u))
    with pytest.raises(StateRefused, match="đã nộp"):
        dossier.set_self_scores(con, P, u, {"A3": 5}, actor=unit_actor(u))
    with pytest.raises(StateRefused, match="đã nộp"):        # a staff file cannot reopen it either
        batches.write_batch(con, _rows(u), actor=STAFF, filename=None, content_hash=None)
    lifecycle.reopen(con, P, "self_assessment", actor=ADMIN, reason="hạn cũ", deadline=date.today() - timedelta(days=1))
    with pytest.raises(StateRefused, match="quá hạn"):
        dossier.set_self_scores(con, P, v, {"A3": 5}, actor=unit_actor(v))
    with pytest.raises(StateRefused, match="quá hạn"):
        lifecycle.submit(con, P, v, actor=unit_actor(v))


def test_the_official_profile_is_fixed_from_appraisal_chair_and_reason_needed(con):
    from danvan_scoring.periods import framework_for_period

    fw = framework_for_period(con, P)
    prof = weights.save_profile(con, weights.default_profile(fw).model_copy(update={"name": "khac"}), fw, actor=ADMIN)
    weights.mark_official(con, P, prof, actor=ADMIN)                       # open: as today
    lifecycle.advance(con, P, actor=ADMIN)
    lifecycle.advance(con, P, actor=ADMIN)
    assert lifecycle.weights_fixed(con, P)
    with pytest.raises(StateRefused, match="lý do"):
        weights.mark_official(con, P, prof, actor=CHAIR)
    with pytest.raises((StateRefused, PermissionDenied)):
        weights.mark_official(con, P, prof, actor=COUNCIL, reason="x")
    weights.mark_official(con, P, prof, actor=CHAIR, reason="Hội đồng họp lại ngày 5/1")
    notice = lifecycle.official_changes(con, P)
    assert notice["reason"].tolist() == ["Hội đồng họp lại ngày 5/1"]
    assert notice["changed_by"].tolist() == ["chutich"]


def test_the_whole_cycle_through_the_library(con):
    u, v = two_units(con)
    me = unit_actor(u)
    lifecycle.advance(con, P, actor=ADMIN, deadline=date.today() + timedelta(days=30))
    dossier.set_self_scores(con, P, u, {"A1": 1, "A3": 4, "B3": 2}, actor=me)
    ev = evidence.add(con, PDF, file_name="quyet-dinh.pdf", unit=u, period=P, criterion="A1", actor=me)
    assert ev.mime == "application/pdf"
    d = dossier.dossier(con, P, u, actor=me)
    a1 = d.set_index("criterion_code").loc["A1"]
    assert a1["files"] == 1 and a1["missing"] == ""
    assert "A2 " in "\n".join(dossier.missing_items(d))                 # A2 needs evidence and a score
    lifecycle.submit(con, P, u, actor=me)
    prog = dossier.progress(con, P).set_index("unit_code")
    assert prog.loc[u, "status"] == "submitted" and prog.loc[v, "status"] == "not_started"
    with pytest.raises(StateRefused):
        evidence.remove(con, ev.evidence_id, actor=me)                     # no removal after submission

    lifecycle.advance(con, P, actor=ADMIN)                                 # appraisal
    appraisal.appraise(con, P, u, "A1", actor=STAFF, accept=True)
    appraisal.appraise(con, P, u, "A3", actor=STAFF, value=3, reason="Chỉ có 3 cuộc đối thoại có biên bản")
    with pytest.raises(store.StoreError, match="lý do"):
        appraisal.appraise(con, P, u, "B3", actor=STAFF, value=1)
    seen = appraisal.reviews(con, P, u, actor=me).set_index("criterion_code")
    assert seen.loc["A3", "reason"] == "Chỉ có 3 cuộc đối thoại có biên bản" and seen.loc["A3", "changed"]
    assert not seen.loc["A1", "changed"]
    cur = batches.current_scores(con, P, stage="appraised").set_index("criterion_code")
    assert cur.loc["A3", "value"] == 3 and cur.loc["A1", "value"] == 1

    lifecycle.advance(con, P, actor=ADMIN)                                 # provisional
    with pytest.raises(StateRefused):
        objections.add(con, P, u, "sớm quá", actor=me)
    lifecycle.advance(con, P, actor=ADMIN)                                 # objections
    oid = objections.add(con, P, u, "Có 5 biên bản đối thoại, gửi kèm", actor=me, criterion="A3")
    with pytest.raises(StateRefused, match="kiến nghị"):
        lifecycle.advance(con, P, actor=ADMIN)
    with pytest.raises(StateRefused, match="kiến nghị đã được chấp nhận"):
        appraisal.appraise(con, P, u, "A3", actor=STAFF, value=4, reason="x")
    objections.resolve(con, oid, accept=True, text="Đã đối chiếu", actor=COUNCIL)
    appraisal.appraise(con, P, u, "A3", actor=STAFF, value=4, reason="Sau kiến nghị: đủ 5 biên bản")
    with pytest.raises(StateRefused):                                      # only the unit with an accepted objection
        appraisal.appraise(con, P, v, "A3", actor=STAFF, value=1, reason="x")
    listed = objections.list_objections(con, P)
    assert listed.columns.tolist() == objections.COLUMNS and listed["status"].tolist() == ["accepted"]
    assert lifecycle.advance(con, P, actor=ADMIN).state == "decided"
    assert lifecycle.advance(con, P, actor=ADMIN).state == "locked"
    assert [r for r in lifecycle.history(con, P)["to_state"]] == list(lifecycle.CYCLE)


def test_missing_data_is_incomplete_while_input_is_open_and_not_eligible_once_closed(con):
    from danvan_scoring import results, sensitivity

    u, _ = two_units(con)   # one self score only: everything else is missing
    batches.write_batch(con, _rows(u), actor=STAFF, filename=None, content_hash=None)

    def standing():
        res = results.period_results(con, P, with_previous=False).set_index("unit_code")
        mc = sensitivity.period_inputs(con, P).results.set_index("unit_code")
        assert mc.loc[u, "status"] == res.loc[u, "status"]      # the Monte Carlo reads the same status
        return res.loc[u, "status"], str(res.loc[u, "award_reason"])

    seen = {"open": standing()}
    for _ in lifecycle.CYCLE:
        st = lifecycle.advance(con, P, actor=ADMIN).state
        seen[st] = standing()
        assert lifecycle.input_closed(con, P) == (lifecycle.STATES.index(st) > lifecycle.STATES.index("appraisal"))
    for st in ("open", "self_assessment", "appraisal"):
        assert seen[st][0] == "incomplete" and seen[st][1].casefold().startswith("chưa đủ dữ liệu")
        assert "thiếu điểm thẩm định" in seen[st][1] and "thiếu chưa" not in seen[st][1]
    for st in ("provisional", "objections", "decided", "locked"):
        assert seen[st][0] == "not_eligible"
        assert "hết hạn nhập mà còn thiếu: điểm thẩm định" in seen[st][1]
    lifecycle.reopen(con, P, "appraisal", actor=ADMIN, reason="nhập bổ sung")
    assert standing()[0] == "incomplete"
