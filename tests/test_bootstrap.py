"""Creating a working database: schema, official units, framework, periods, blocks, default profile."""

from danvan_scoring import blocks, bootstrap, periods, store, units, weights


def test_init_is_idempotent(empty_db):
    con = store.connect(empty_db)
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
              for t in ("units", "provinces", "frameworks", "periods", "blocks", "unit_blocks", "weight_profiles",
                        "profile_weights", "audit_log")}
    bootstrap.init_connection(con)
    after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in before}
    assert before == after
    assert store.migrate(con) == []


def test_every_unit_has_a_block(empty_con):
    b = blocks.unit_blocks(empty_con, "2025")
    assert len(b) == 3321 and b["block_code"].notna().all()
    # blocks stay within a province
    u = units.units(empty_con).merge(b, on="unit_code")
    assert (u["block_code"].str[:2] == u["province_code"]).all()


def test_init_creates_the_default_profile_periods_and_audits_it(empty_con):
    fw = periods.framework_for_period(empty_con, "2025")
    assert periods.periods(empty_con) == ["2025"]
    prof = weights.official_profile(empty_con, "2025")
    assert prof.name == weights.DEFAULT_PROFILE and prof.profile_id is not None
    assert (prof.framework_code, prof.framework_version) == (fw.code, fw.version)
    actions = set(store.audit_log(empty_con)["action"])
    assert {"db.init", "units.load", "period.add", "weights.save", "blocks.set"} <= actions


def test_ensure_period_adds_a_period_with_default_blocks(empty_con):
    bootstrap.ensure_period(empty_con, "2026")
    assert periods.periods(empty_con) == ["2025", "2026"]
    assert len(blocks.unit_blocks(empty_con, "2026")) == len(units.units(empty_con))
