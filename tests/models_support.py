"""Shared by the model-registry tests (test_registry, test_derived, test_model_upload, test_rubric,
test_demo): the two-framework database and independent recomputations."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from danvan_scoring import batches as batch_store
from danvan_scoring import bootstrap, demo, registry, store
from danvan_scoring import periods as period_store
from danvan_scoring import units as official_units
from danvan_scoring import units as unit_store
from danvan_scoring.criteria import load_framework
from danvan_scoring.permissions import Actor
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
        period_store.save_framework(con, fw)
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
    batch_store.write_batch(con, rows, actor=CLI_ACTOR, filename="demo", content_hash="demo-test", synthetic=True)
    demo.generate_demo_models(con, seed=5, periods=[PERIOD], provinces=[PROVINCE])
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
    m = registry.list_models(con, period)
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
