"""The registry's storage: status changes, their checks, rubric scoring, undo."""

from __future__ import annotations

import pandas as pd
import pytest
from models_support import LEADER, PERIOD, STAFF

from danvan_scoring import batches as batch_store
from danvan_scoring import derived, registry, rubric, store
from danvan_scoring import periods as period_store
from danvan_scoring.results import period_results


def test_status_change_moves_the_units_points_and_undo_restores_them(mcon):
    fw = period_store.framework_for_period(mcon, PERIOD)
    before = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    summ = derived.models_summary_by_unit(mcon, PERIOD).set_index("unit_code")
    m = registry.current_models(mcon, PERIOD)
    # a unit below the 60% recognised target with a model in progress
    cands = [u for u in summ.index[summ["share_recognised"] < 40]
             if ((m["unit_code"] == u) & (m["status"] == "in_progress")).any() and u in before.index]
    assert cands
    unit = cands[0]
    mid = m[(m["unit_code"] == unit) & (m["status"] == "in_progress")]["model_id"].iloc[0]
    n_total = int(summ.loc[unit, "models_total"])
    res = registry.set_status(mcon, PERIOD, mid, "recognised", actor=STAFF, level="commune")
    after = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    c3 = fw.criteria["C3"]
    step = c3.max_points * (100 / n_total) / c3.target  # one more recognised model, below the cap
    assert after.loc[unit, "total"] > before.loc[unit, "total"]
    if registry.get_model(mcon, PERIOD, mid)["rubric_total"] is None:  # C4 unchanged: exactly one C3 step
        assert after.loc[unit, "group_C"] - before.loc[unit, "group_C"] == pytest.approx(step, abs=1e-6)
    others = after.index.difference([unit])
    pd.testing.assert_series_equal(after.loc[others, "total"], before.loc[others, "total"])
    # history keeps both states; undo brings the points back exactly
    h = registry.model_history(mcon, PERIOD, mid)
    assert h["status"].tolist()[:2] == ["recognised", "in_progress"]
    batch_store.undo_batch(mcon, res.batch_id, actor=STAFF)
    again = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    assert again.loc[unit, "total"] == pytest.approx(before.loc[unit, "total"], abs=1e-12)
    assert registry.get_model(mcon, PERIOD, mid)["status"] == "in_progress"


def test_status_change_exact_step_for_a_model_without_rubric(mcon):
    """Recognising a model with no rubric score changes C3 only (C4 averages scored models)."""
    fw = period_store.framework_for_period(mcon, PERIOD)
    summ = derived.models_summary_by_unit(mcon, PERIOD).set_index("unit_code")
    m = registry.current_models(mcon, PERIOD)
    pick = m[(m["status"] == "registered") & m["rubric_total"].isna()
             & m["unit_code"].map(summ["share_recognised"] < 40)]
    assert len(pick)
    unit, mid = pick.iloc[0]["unit_code"], pick.iloc[0]["model_id"]
    before = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    registry.set_status(mcon, PERIOD, mid, "recognised", actor=STAFF)
    after = period_results(mcon, PERIOD, with_previous=False).set_index("unit_code")
    c3 = fw.criteria["C3"]
    step = c3.max_points * (100 / summ.loc[unit, "models_total"]) / c3.target
    assert after.loc[unit, "group_C"] - before.loc[unit, "group_C"] == pytest.approx(step, abs=1e-6)
    assert registry.get_model(mcon, PERIOD, mid)["level"] == "commune"


def test_status_changes_are_checked(mcon):
    m = registry.current_models(mcon, PERIOD)
    dropped = m[m["status"] == "dropped"]["model_id"].iloc[0]
    with pytest.raises(rubric.ModelsError, match="Không chuyển được"):
        registry.set_status(mcon, PERIOD, dropped, "replicated", actor=STAFF)
    with pytest.raises(rubric.ModelsError, match="Trạng thái 'won' không hợp lệ"):
        registry.set_status(mcon, PERIOD, dropped, "won", actor=STAFF)
    with pytest.raises(store.PermissionDenied):
        registry.set_status(mcon, PERIOD, dropped, "registered", actor=LEADER)
    with pytest.raises(rubric.ModelsError, match="Không có mô hình"):
        registry.set_status(mcon, PERIOD, "MH-NOPE", "registered", actor=STAFF)


def test_rubric_scoring_moves_c4(mcon):
    m = registry.current_models(mcon, PERIOD)
    rec = m[m["status"].isin(rubric.RECOGNISED) & m["rubric_total"].notna()].iloc[0]
    full = {it.code: it.max_points for it in rubric.default_rubric().items}
    registry.score_model(mcon, PERIOD, rec["model_id"], full, actor=STAFF)
    assert registry.get_model(mcon, PERIOD, rec["model_id"])["rubric_total"] == 100
    with pytest.raises(rubric.ModelsError, match="phải từ 0 đến 20"):
        registry.score_model(mcon, PERIOD, rec["model_id"], {**full, "novelty": 25}, actor=STAFF)
    with pytest.raises(rubric.ModelsError, match="thiếu điểm mục"):
        registry.score_model(mcon, PERIOD, rec["model_id"], {"novelty": 5}, actor=STAFF)


# --------------------------------------------------------------------------- uploads
