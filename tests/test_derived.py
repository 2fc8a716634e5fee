"""Derived criteria: values recomputed independently, units without models, typed values refused, the summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from models_support import PERIOD, STAFF, expected_values, points

from danvan_scoring import batches as batch_store
from danvan_scoring import derived, registry, rubric
from danvan_scoring import periods as period_store
from danvan_scoring.results import period_results


def test_derived_points_equal_an_independent_recomputation(mcon):
    fw = period_store.framework_for_period(mcon, PERIOD)
    metrics_of = derived.derived_criteria(fw)
    assert metrics_of == {"C1": "models_registered_ratio", "C2": "fields_covered", "C3": "share_recognised",
                       "C4": "mean_rubric_recognised", "P1": "replicated_bonus"}
    res = period_results(mcon, PERIOD, with_previous=False)
    units = res["unit_code"].tolist()
    exp = expected_values(mcon, PERIOD, units).set_index("unit_code")

    d = derived.derived_scores(mcon, PERIOD, fw, units)
    assert set(d["stage"]) == {"self", "appraised"}
    got = d[d["stage"] == "appraised"].pivot(index="unit_code", columns="criterion_code", values="value")
    for code, metric in metrics_of.items():
        np.testing.assert_allclose(got.loc[units, code].to_numpy(), exp.loc[units, metric].to_numpy(), atol=1e-3)

    # group C under the default profile is the sum of its points; the bonus holds P1
    scores = batch_store.current_scores(mcon, PERIOD, stage="appraised")
    p2 = scores[scores["criterion_code"] == "P2"].set_index("unit_code")["value"]
    for u in units:
        c_points = sum(points(fw, c, exp.loc[u, metrics_of[c]]) for c in ("C1", "C2", "C3", "C4"))
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
    fw = period_store.framework_for_period(mcon, PERIOD)
    s = derived.models_summary_by_unit(mcon, PERIOD)
    unit = s.loc[s["models_total"] > 0, "unit_code"].iloc[0]
    mine = registry.current_models(mcon, PERIOD, unit)
    # every model of the unit dropped (undoing the demo batches would empty every unit)
    for mid in mine["model_id"]:
        rec = registry.get_model(mcon, PERIOD, mid)
        if rec["status"] != "dropped":
            registry.set_status(mcon, PERIOD, mid, "dropped", actor=STAFF)
    d = derived.derived_scores(mcon, PERIOD, fw, [unit])
    vals = d[d["stage"] == "appraised"].set_index("criterion_code")["value"]
    assert vals["C1"] == 0 and vals["C2"] == 0 and vals["C3"] == 0 and vals["P1"] == 0
    res = period_results(mcon, PERIOD, with_previous=False)
    row = res[res["unit_code"] == unit].iloc[0]
    assert "C1" not in row["missing"] and "C3" not in row["missing"]


# --------------------------------------------------------------------------- typed-in points refused
def test_typed_points_for_a_derived_criterion_are_refused(mcon):
    fw2 = period_store.framework_for_period(mcon, PERIOD)
    fw1 = period_store.framework_for_period(mcon, "2025")
    rows = pd.DataFrame({"unit_code": ["18073", "18073", "18073"], "period": [PERIOD, PERIOD, "2025"],
                         "criterion_code": ["C1", "A3", "C1"], "_row": [2, 3, 4]})
    frameworks = {PERIOD: fw2, "2025": fw1}
    probs = derived.refuse_derived(rows, frameworks.get)
    assert [(p.row, p.value) for p in probs] == [(2, "C1")]
    with_values = derived.refuse_derived(rows.assign(value=[80.0, 4.0, 80.0]), frameworks, "Mã tiêu chí")
    assert [(p.row, p.column, p.value) for p in with_values] == [(2, "Mã tiêu chí", "C1")]  # the cell in that column is the code
    assert "tính tự động từ sổ mô hình" in probs[0].reason and "--kind models" in probs[0].reason
    assert derived.refuse_derived(rows, fw1) == []


# --------------------------------------------------------------------------- definitions



def test_summary_filters_units_without_a_model_in_a_field(mcon):
    s = derived.models_summary_by_unit(mcon, PERIOD)
    none_party = s[s["n_party_building"] == 0]
    assert len(none_party) > len(s) * 0.8
    assert all("Xây dựng Đảng" in f for f in none_party["fields_missing"])
    c = registry.counts_by_field_status(mcon, PERIOD)
    assert len(c) == 6 * 5 and c["models"].sum() == len(registry.current_models(mcon, PERIOD))
    best = registry.best_models(mcon, PERIOD, 5)
    assert best["rubric_total"].is_monotonic_decreasing and best["status"].isin(rubric.RECOGNISED).all()
    b = derived.derived_breakdown(mcon, PERIOD, s["unit_code"].iloc[0])
    assert list(b["criterion_code"]) == ["C1", "C2", "C3", "C4", "P1"]


def test_a_unit_read_from_the_periods_models_equals_its_own_query(mcon):
    """The dashboard reads the period's registry once and passes it (models=): same rows as the
    per-unit queries, for a unit with models and for one without."""
    models = registry.current_models(mcon, PERIOD)
    with_models = models["unit_code"].iloc[0]
    without = next(u for u in derived.models_summary_by_unit(mcon, PERIOD)["unit_code"]
                   if u not in set(models["unit_code"]))
    for unit in (with_models, without):
        pd.testing.assert_frame_equal(derived.derived_breakdown(mcon, PERIOD, unit, models=models),
                                      derived.derived_breakdown(mcon, PERIOD, unit))
        want = registry.list_models(mcon, PERIOD, unit)
        # an empty answer of the database has object columns, an empty slice keeps the text dtype
        pd.testing.assert_frame_equal(registry.list_models(mcon, PERIOD, unit, models=models), want,
                                      check_dtype=not want.empty)
    assert len(registry.list_models(mcon, PERIOD, with_models, models=models)) > 0


# --------------------------------------------------------------------------- CLI
