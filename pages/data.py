"""Cached data access of the dashboard: the connection, the cache keys, and every cached read.

No SQL and no scoring logic here (the library computes). Every cached read is a function
``_name(path, v, *args, _con)`` called through ``cached(_name, *args)``: one key for all of
them — the database path, the version (``version()``: moves with any write that can change a
computed result; ``write_version()`` with ``writes=True`` for what lists the writes themselves,
such as submissions and drafts), then the read's own arguments. The cursor is passed as an
underscore argument (not hashed). A page's own cached reads follow the same shape.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from danvan_scoring import auth, crosswalk, derived, insights, lifecycle, oidc, publish, registry, results, sensitivity, store
from danvan_scoring import periods as period_store
from danvan_scoring import units as unit_store
from danvan_scoring.cli import default_demo_allowed, ensure_database
from danvan_scoring.criteria import Framework
from danvan_scoring.paths import default_db_path
from danvan_scoring.weights import WeightProfile, load_profile_id, official_profile


# --------------------------------------------------------------------------- connection
def db_path() -> str:
    return _canonical(str(default_db_path()))


@functools.lru_cache(maxsize=8)
def _canonical(target: str) -> str:
    return store.canonical(target)   # Path.resolve: a few hundred µs, and asked for 20-odd times a run


class MissingDatabase(Exception):
    """The database file named by DANVAN_DB (or ``danvan serve --db``) does not exist."""


@st.cache_resource(show_spinner="Đang mở cơ sở dữ liệu…")
def _connection(path: str):
    if not store.exists(path):
        if not default_demo_allowed(Path(path)):
            raise MissingDatabase(path)   # a typo or an unmounted volume: never a fresh demo with an admin
        ensure_database(Path(path))       # scripts/start.sh on the default data/danvan.duckdb
    con = store.connect(path)
    store.migrate(con)
    return con


def open_run():
    """One cursor of the shared connection per script run (fragments reuse it)."""
    cur = _connection(db_path()).cursor()
    st.session_state["_cursor"] = cur
    fresh_versions()
    return cur


def fresh_versions() -> None:
    """Read the data versions again at the next cached read (a new run, a fragment's rerun)."""
    st.session_state.pop("_versions", None)


def db():
    cur = st.session_state.get("_cursor")
    return cur if cur is not None else open_run()


_RESULTS_VERSION: dict[tuple[str, int], int] = {}


def version() -> int:
    """The cache key of computed results: moves with any write that can change one (scores, models,
    official profile, publication…), not with a draft profile or a council member's submission.

    Read once per run (``_run_versions``). ``store.results_version`` filters the audit log
    (1.5 ms); ``data_version`` (every write) is a plain max (0.5 ms), so the first is looked up
    again only when the second moved — still exact, and three times cheaper."""
    memo = _run_versions()
    if "results" not in memo:
        key = (db_path(), write_version())
        got = _RESULTS_VERSION.get(key)
        if got is None:
            if len(_RESULTS_VERSION) > 64:
                _RESULTS_VERSION.clear()
            got = _RESULTS_VERSION[key] = store.results_version(db())
        memo["results"] = got
    return memo["results"]


def write_version() -> int:
    """Moves with every write: the key for what lists the writes themselves (submissions, drafts)."""
    memo = _run_versions()
    if "data" not in memo:
        memo["data"] = store.data_version(db())
    return memo["data"]


def _run_versions() -> dict:
    """The versions read once per script run (each look-up is a query, and a run makes 20-odd
    cached reads), read again when this process wrote meanwhile (``store.local_writes``), so a page
    sees its own write at once; another process's write shows at the next run."""
    mark = store.local_writes()
    memo = st.session_state.get("_versions")
    if memo is None or memo.get("mark") != mark:
        memo = st.session_state["_versions"] = {"mark": mark}
    return memo


def cache_key(*, writes: bool = False) -> tuple[str, int]:
    """(database path, version) that starts the key of every cached read."""
    return db_path(), (write_version() if writes else version())


def cached(fn, *args, writes: bool = False):
    """``fn(path, v, *args, cursor)``: a cached read (``@st.cache_data`` function shaped
    ``_name(path, v, …, _con)``) called with the one key of this module (``cache_key``)."""
    return fn(*cache_key(writes=writes), *args, db())


def oidc_settings() -> "oidc.OidcSettings | None":
    """Identity-provider sign-in settings when Streamlit's ``[auth]`` secrets exist, else None
    (local accounts only — the embedded default). A wrong ``[danvan_oidc]`` raises StoreError."""
    try:
        if "auth" not in st.secrets:
            return None
        section = st.secrets.get("danvan_oidc")
    except Exception:  # no secrets file at all
        return None
    return oidc.settings_from(dict(section) if section else None)


def actor() -> auth.Actor | None:
    return st.session_state.get("actor")


@st.cache_data(show_spinner=False, max_entries=8)
def _is_demo(path: str, v: int, _con) -> bool:
    return store.is_demo(_con)


def is_demo() -> bool:
    """The demo mark of the database (a meta row: every page's badge asks), once per write."""
    return cached(_is_demo, writes=True)


# --------------------------------------------------------------------------- cached reads
# Shared frames. A hit of ``st.cache_data`` unpickles its value: for the period's 3,321-row tables,
# read by every run of the ranking, overview and profile pages, that was ~10 % of the server's CPU
# under 60 sessions. The few tables read on every run are therefore also kept once per process
# (``st.cache_resource``, a ``*_shared`` read over the ``st.cache_data`` one) and handed out as
# ``frame.copy(deep=False)``: pandas ≥ 3 is Copy-on-Write, so a page that changes its copy (a new
# column, a ``.loc`` assignment) copies what it changes and the shared frame never moves.
@st.cache_data(show_spinner=False, max_entries=64)
def _official_json(path: str, v: int, period: str, _con) -> str:
    return official_profile(_con, period).model_dump_json()


def official(period: str) -> WeightProfile:
    return WeightProfile.model_validate_json(cached(_official_json, period))


@st.cache_resource(show_spinner=False, max_entries=64)
def _framework(path: str, v: int, period: str, _con) -> Framework:
    # the library's own shared object: periods.load_framework_version keeps each parsed version
    return period_store.framework_for_period(_con, period)


def framework(period: str) -> Framework:
    """The period's criteria framework, looked up once per data version (two queries and a JSON
    definition, asked for several times a run)."""
    return cached(_framework, period)


@st.cache_data(show_spinner=False, max_entries=64)
def _cycle(path: str, v: int, period: str, _con) -> tuple[lifecycle.PeriodState, pd.DataFrame | None,
                                                         pd.DataFrame | None]:
    state = lifecycle.state(_con, period)
    if state.state == "open":
        return state, None, None
    return state, lifecycle.reopenings(_con, period), lifecycle.official_changes(_con, period)


def cycle(period: str) -> tuple[lifecycle.PeriodState, pd.DataFrame | None, pd.DataFrame | None]:
    """The period's state, its reopenings and the official profile's changes after it was fixed
    (None, None while the period is open): the notice on every results page, once per write."""
    return cached(_cycle, period, writes=True)


@st.cache_data(show_spinner=False, max_entries=16)
def _scores(path: str, v: int, period: str, _con) -> pd.DataFrame:
    """The scores the period is ranked on (typed-in values plus those derived from the model registry)."""
    return results.period_scores(_con, period)


def scores(period: str) -> pd.DataFrame:
    return cached(_scores, period)


@st.cache_data(show_spinner=False, max_entries=64)
def _base_results(path: str, v: int, period: str, profile_json: str, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    return results.period_results(_con, period, profile, with_previous=False, scores=_scores(path, v, period, _con))


@st.cache_data(show_spinner="Đang tính điểm và xếp hạng…", max_entries=64)
def _results(path: str, v: int, period: str, profile_json: str, _con) -> pd.DataFrame:
    base = _base_results(path, v, period, profile_json, _con)
    prev_period = period_store.previous_period(_con, period)
    prev = None
    if prev_period:
        prev = _base_results(path, v, prev_period, _official_json(path, v, prev_period, _con), _con)
    # across the 2025 merger the previous figures are mapped onto the new units (``prev_estimated``)
    return results.with_change(_con, base, period, prev_period, prev)


@st.cache_resource(show_spinner=False, max_entries=16)
def _results_shared(path: str, v: int, period: str, profile_json: str, _con) -> pd.DataFrame:
    """``_results`` kept once per process (see "Shared frames" above). Never handed out."""
    return _results(path, v, period, profile_json, _con)


def period_table(period: str, profile: WeightProfile | None = None) -> pd.DataFrame:
    """The period's results (with change against the previous period), cached: a shallow copy of
    the shared frame (Copy-on-Write: changing it never changes the shared one)."""
    profile = profile or official(period)
    return cached(_results_shared, period, profile.model_dump_json()).copy(deep=False)


class FilterChoices(NamedTuple):
    """What the filter bar offers for a table: the names stored with its provinces, the provinces
    present (sorted), one row per block (block, block_name, province_code) and the unit types present."""
    province_names: dict
    provinces: list
    blocks: pd.DataFrame
    unit_types: frozenset


def filter_blocks(res: pd.DataFrame) -> pd.DataFrame:
    """One row per block of ``res`` (block, block_name, province_code), as the block filter offers."""
    return res[["block", "block_name", "province_code"]].dropna(subset=["block"]).drop_duplicates("block")


def filter_choices(res: pd.DataFrame) -> FilterChoices:
    pairs = res[["province_code", "province_name"]].drop_duplicates("province_code", keep="last")
    return FilterChoices(
        dict(zip(pairs["province_code"], pairs["province_name"])),
        sorted(res["province_code"].dropna().unique().tolist()),
        filter_blocks(res),
        frozenset(res["unit_type"].dropna().unique().tolist()) if "unit_type" in res.columns else frozenset())


# the choices of a shared table, built once per table (not on every rerun: ~13 % of a ranking rerun)
@st.cache_resource(show_spinner=False, max_entries=16)
def _period_choices(path: str, v: int, period: str, profile_json: str, _con) -> FilterChoices:
    return filter_choices(_results_shared(path, v, period, profile_json, _con))


def period_choices(period: str, profile: WeightProfile | None = None) -> FilterChoices:
    """``filter_choices(period_table(period, profile))``, shared: read only."""
    return cached(_period_choices, period, (profile or official(period)).model_dump_json())


def base_table(period: str) -> pd.DataFrame:
    """The period's results under its official profile, without the previous period."""
    return cached(_base_results, period, official(period).model_dump_json())


@st.cache_resource(show_spinner=False, max_entries=4)
def _period_breakdown(path: str, v: int, period: str, profile_json: str, _con) -> tuple[pd.DataFrame, np.ndarray]:
    """insights.period_breakdown of every unit of ``period_table`` under ``profile_json``, sorted by
    unit, and the sorted codes of its rows: one unit's rows are a slice. One vectorised pass per
    period and data version (~0.3 s for 3,321 units) instead of ~5 ms of pandas per profile opened.
    Shared, never handed out: ``unit_breakdown`` hands out slices."""
    profile = WeightProfile.model_validate_json(profile_json)
    units = sorted(_results_shared(path, v, period, profile_json, _con)["unit_code"].astype(str).unique().tolist())
    bd = insights.period_breakdown(_scores(path, v, period, _con), _framework(path, v, period, _con), profile, units)
    return bd, bd["unit_code"].to_numpy(dtype=object)


def unit_breakdown(period: str, unit: str) -> tuple[pd.DataFrame, int]:
    """``insights.criterion_breakdown`` of one unit under the period's official profile (with a
    ``unit_code`` column), and the position of its first row in the period's breakdown: a table
    built row for row from ``period_breakdown(period)`` holds this unit at the same rows."""
    bd, codes = period_breakdown(period)
    a, b = np.searchsorted(codes, unit, "left"), np.searchsorted(codes, unit, "right")
    if a == b:   # not in the period table: no score at all, every criterion missing
        empty = scores(period).iloc[0:0].assign(unit_code=unit)
        return insights.period_breakdown(empty, framework(period), official(period), [unit]), -1
    return bd.iloc[a:b].reset_index(drop=True), int(a)


def period_breakdown(period: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The shared ``_period_breakdown`` of ``period`` under its official profile: read only."""
    return cached(_period_breakdown, period, official(period).model_dump_json())


@st.cache_data(show_spinner=False, max_entries=16)
def _contrib(path: str, v: int, period: str, profile_json: str, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    fw = period_store.framework_for_period(_con, period)
    units = _base_results(path, v, period, profile_json, _con)["unit_code"].tolist()
    return insights.contribution_matrix(_scores(path, v, period, _con), fw, profile, units)


def contributions(period: str) -> pd.DataFrame:
    return cached(_contrib, period, official(period).model_dump_json())


@st.cache_data(show_spinner=False, max_entries=8)
def _periods_with_data(path: str, v: int, _con) -> list[str]:
    return [p for p in period_store.periods(_con) if results.scored_units(_con, p)]


def periods() -> list[str]:
    return period_store.periods(db())


def periods_with_data() -> list[str]:
    return cached(_periods_with_data)


@st.cache_data(show_spinner=False, max_entries=4)
def _provinces(path: str, v: int, _con) -> dict[str, str]:
    p = unit_store.provinces(_con)
    return dict(zip(p["province_code"], p["short_name"].fillna(p["name"])))


def province_names() -> dict[str, str]:
    return cached(_provinces)


def unit_labels(res: pd.DataFrame) -> dict[str, str]:
    """unit code → "Xã Đức Đồng (Hà Tĩnh) · 18304", for selectboxes."""
    prov = res["province_code"].map(province_names()).fillna(res["province_name"]).fillna("")
    text = res["unit_name"].fillna(res["unit_code"]) + " (" + prov + ") · " + res["unit_code"]
    return dict(zip(res["unit_code"], text))


@st.cache_resource(show_spinner=False, max_entries=8)
def _period_unit_labels(path: str, v: int, period: str, profile_json: str, _con) -> dict[str, str]:
    """Shared by every session and read only (a selectbox's labels)."""
    return unit_labels(_results(path, v, period, profile_json, _con))


def period_unit_labels(period: str) -> dict[str, str]:
    """``unit_labels`` of ``period_table(period)``, built once per period and data version (3,321
    labels: ~8 % of a profile rerun when built on every run). Read only: it is shared."""
    return cached(_period_unit_labels, period, official(period).model_dump_json())


@st.cache_data(show_spinner=False, max_entries=2)
def _unit_points(path: str, v: int, _con):
    return unit_store.units(_con)[["lon", "lat"]].dropna()


def unit_points():
    """Centroids of every official unit: drawn in light grey, they outline the country offline."""
    return cached(_unit_points)


# --------------------------------------------------------------------------- across the 2025 merger
def across_merger(period: str) -> bool:
    """The period is on the new units and its previous period on the old ones."""
    return crosswalk.across_merger(period_store.previous_period(db(), period), period)


@st.cache_data(show_spinner="Đang chuyển kết quả đơn vị cũ sang đơn vị mới…", max_entries=16)
def _mapped(path: str, v: int, period: str, profile_json: str, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    return results.mapped_results(_con, period, profile, own=_base_results(path, v, period, profile_json, _con))


def mapped_table(period: str) -> pd.DataFrame:
    """A pre-merger period's figures on the new units (``results.mapped_results``), cached."""
    return cached(_mapped, period, official(period).model_dump_json())


def history_frames(new_map: bool = True) -> dict[str, pd.DataFrame]:
    """period → results for a trend. ``new_map``: the periods before 1 July 2025 mapped onto the new
    units (once a later period is on them), as the overview and compare pages read the new units'
    past; otherwise only the periods before the merger, the old units' own tables."""
    ps = periods_with_data()
    later_new = any(not crosswalk.is_pre_merger(p) for p in ps)
    out = {}
    for p in ps:
        if crosswalk.is_pre_merger(p) and later_new and new_map:
            out[p] = mapped_table(p)
        elif new_map or crosswalk.is_pre_merger(p):
            out[p] = base_table(p)
    return out


def unit_trend(unit: str, period: str) -> pd.DataFrame:
    """One unit's total and rank over the periods, read the way ``period`` is: on the new map (a new
    unit's years before the merger estimated from its predecessors, ``results.trend``) or, for a
    period before the merger, the old unit's own years before it."""
    if crosswalk.is_pre_merger(period):
        return insights.trend_from(history_frames(new_map=False), [unit])
    frames = {p: base_table(p) for p in periods_with_data()}
    mapped = {p: mapped_table(p) for p in frames if crosswalk.is_pre_merger(p)}
    return results.trend(db(), [unit], frames=frames, mapped=mapped)


@st.cache_resource(show_spinner=False, max_entries=2)
def _predecessors_by_unit(path: str, v: int, _con) -> tuple[pd.DataFrame, np.ndarray]:
    """Every new unit's predecessors with their figures, sorted by unit, and the sorted codes.
    Shared, never handed out: ``predecessors`` copies its slice (per unit it unpickled the
    pre-merger tables and queried the crosswalk: ~30 ms of each new profile)."""
    frames = {p: base_table(p) for p in periods_with_data() if crosswalk.is_pre_merger(p)}
    table = results.predecessor_table(_con, frames=frames)
    return table, table["unit_code"].astype(str).to_numpy()


def predecessors(unit: str) -> pd.DataFrame:
    """The old units a new unit was formed from, with their own pre-merger figures (cached tables)."""
    table, codes = cached(_predecessors_by_unit)
    a, b = np.searchsorted(codes, unit, "left"), np.searchsorted(codes, unit, "right")
    return table.iloc[a:b][results.PREDECESSOR_COLUMNS].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=2)
def _unit_names(path: str, v: int, _con) -> dict[str, str]:
    return unit_store.unit_names(_con)


def unit_names() -> dict[str, str]:
    """unit code → name of today's units."""
    return cached(_unit_names)


@st.cache_data(show_spinner=False, max_entries=64)
def _successors(path: str, v: int, legacy_code: str, _con) -> pd.DataFrame:
    return crosswalk.crosswalk(_con, legacy=legacy_code)


def successors_of(legacy_code: str) -> pd.DataFrame:
    """The new units an old unit went into (unit_code, share, share_method, legacy_district…)."""
    return cached(_successors, legacy_code)


# --------------------------------------------------------------------------- rank uncertainty
# Monte Carlo over weights (sensitivity.uncertainty_table), computed once per period × profile ×
# data version × draws × spread and kept in st.cache_data; the widgets on Xếp hạng change the
# draws and the spread for the whole session (kept in UNC_STATE, not in the widget keys, so the
# choice survives a page switch).
UNC_DRAWS = 1000
UNC_SPREAD = 0.25
UNC_SEED = 0
UNC_STATE = "_unc_settings"


def sync_unc_widgets() -> None:
    """The Xếp hạng widgets (keys ``unc_draws``, ``unc_spread`` in %) set the session's choice;
    read at the top of a run, so the table drawn above the widgets already uses a new value."""
    got = dict(st.session_state.get(UNC_STATE) or {})
    if "unc_draws" in st.session_state:
        got["draws"] = int(st.session_state["unc_draws"])
    if "unc_spread" in st.session_state:
        got["spread"] = float(st.session_state["unc_spread"]) / 100.0
    st.session_state[UNC_STATE] = got


def unc_settings() -> tuple[int, float]:
    """(draws, spread) chosen in this session, else the defaults (1.000 draws, ±25 %)."""
    got = st.session_state.get(UNC_STATE) or {}
    draws = int(got.get("draws", UNC_DRAWS))
    spread = float(got.get("spread", UNC_SPREAD))
    return max(1, draws), min(max(spread, 0.0), 0.95)


@st.cache_data(show_spinner=False, max_entries=16)
def _inputs(path: str, v: int, period: str, profile_json: str, _con) -> sensitivity.PeriodInputs:
    """sensitivity.period_inputs from the cached scores and results (not read and ranked again)."""
    profile = WeightProfile.model_validate_json(profile_json)
    return sensitivity.period_inputs(_con, period, profile, scores=_scores(path, v, period, _con),
                                     results=_base_results(path, v, period, profile_json, _con))


@st.cache_data(show_spinner="Đang thử lại xếp hạng với trọng số thay đổi…", max_entries=32)
def _uncertainty(path: str, v: int, period: str, profile_json: str, draws: int, spread: float, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    return sensitivity.uncertainty_table(_con, period, profile, draws=draws, spread=spread, seed=UNC_SEED,
                                         inputs=_inputs(path, v, period, profile_json, _con))


def uncertainty(period: str, profile: WeightProfile | None = None) -> pd.DataFrame:
    """The period's rank-uncertainty table (one row per ranked unit), cached."""
    profile = profile or official(period)
    return cached(_uncertainty, period, profile.model_dump_json(), *unc_settings())


@st.cache_resource(show_spinner=False, max_entries=4)
def _uncertainty_by_unit(path: str, v: int, period: str, profile_json: str, draws: int, spread: float,
                         _con) -> pd.DataFrame:
    """The uncertainty table indexed by unit code. Shared, never handed out: ``uncertainty_row`` copies."""
    unc = _uncertainty(path, v, period, profile_json, draws, spread, _con)
    out = unc.set_index(unc["unit_code"].astype(str))
    if not out.index.is_unique:
        raise ValueError(f"uncertainty table of {period}: a unit has two rows")
    return out


def uncertainty_row(period: str, unit: str) -> pd.Series | None:
    """One unit's row of ``uncertainty(period)`` (None when it is not ranked), without copying the
    whole table out of the cache on every profile rerun."""
    unc = cached(_uncertainty_by_unit, period, official(period).model_dump_json(), *unc_settings())
    return unc.loc[unit].copy() if unit in unc.index else None


@st.cache_data(show_spinner=False, max_entries=16)
def _published(path: str, v: int, period: str, _con) -> tuple[pd.DataFrame | None, dict]:
    pub = publish.published(_con, period)
    if pub is None:   # the page shows its own cached live table
        _, info = publish.published_or_live(_con, period, live_table=False)
        return None, info
    table, info = publish.published_or_live(_con, period, check_live=True)
    return table, info


def published(period: str) -> tuple[pd.DataFrame | None, dict]:
    """(frozen table or None, info with the Vietnamese ``message``) of the period's latest publication."""
    return cached(_published, period)


@st.cache_data(show_spinner=False, max_entries=16)
def _ranking_table(path: str, v: int, period: str, source: str, profile_json: str, draws: int, spread: float,
                   _con) -> pd.DataFrame:
    if source == "published":
        table = _published(path, v, period, _con)[0]
    else:
        table = _results(path, v, period, profile_json, _con)
    unc = _uncertainty(path, v, period, profile_json, draws, spread, _con)
    return sensitivity.attach_intervals(table, unc)


@st.cache_resource(show_spinner=False, max_entries=8)
def _ranking_table_shared(path: str, v: int, period: str, source: str, profile_json: str, draws: int,
                          spread: float, _con) -> pd.DataFrame:
    """``_ranking_table`` kept once per process (see "Shared frames" above). Never handed out."""
    return _ranking_table(path, v, period, source, profile_json, draws, spread, _con)


def ranking_table(period: str, source: str = "live", profile: WeightProfile | None = None) -> pd.DataFrame:
    """The ranking page's table (live or the published snapshot) with the interval columns, cached:
    a shallow copy of the shared frame."""
    profile = profile or official(period)
    return cached(_ranking_table_shared, period, source, profile.model_dump_json(), *unc_settings()).copy(deep=False)


@st.cache_resource(show_spinner=False, max_entries=8)
def _ranking_choices(path: str, v: int, period: str, source: str, profile_json: str, draws: int,
                     spread: float, _con) -> FilterChoices:
    return filter_choices(_ranking_table_shared(path, v, period, source, profile_json, draws, spread, _con))


def ranking_choices(period: str, source: str = "live", profile: WeightProfile | None = None) -> FilterChoices:
    """``filter_choices(ranking_table(period, source, profile))``, shared: read only."""
    profile = profile or official(period)
    return cached(_ranking_choices, period, source, profile.model_dump_json(), *unc_settings())


@st.cache_data(show_spinner=False, max_entries=64)
def _profile_json_id(path: str, v: int, profile_id: int, _con) -> str:
    return load_profile_id(_con, int(profile_id)).model_dump_json()


def profile_by_id(profile_id: int) -> WeightProfile:
    return WeightProfile.model_validate_json(cached(_profile_json_id, int(profile_id)))


@st.cache_data(show_spinner=False, max_entries=8)
def _swing_scenarios(path: str, v: int, period: str, profile_json: str, _con) -> sensitivity.SwingScenarios:
    # every unit's totals under each changed group weight, once a period: a unit's swing is then a
    # comparison against them (computed per unit it cost ~30 ms of every new profile)
    profile = WeightProfile.model_validate_json(profile_json)
    return sensitivity.period_swing_scenarios(_con, period, profile,
                                              inputs=_inputs(path, v, period, profile_json, _con))


def rank_swing(period: str, unit: str) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """(summary, curve, most) of sensitivity.rank_swing_for under the official profile."""
    sc = cached(_swing_scenarios, period, official(period).model_dump_json())
    sw = sensitivity.rank_swing_for(db(), period, None, unit, scenarios=sc)
    return sw.summary, sw.curve, sw.most


@st.cache_data(show_spinner=False, max_entries=64)
def _flip(path: str, v: int, period: str, profile_json: str, a: str, b: str, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    return sensitivity.pairwise_flip_for(_con, period, profile, a, b,
                                         inputs=_inputs(path, v, period, profile_json, _con))


def pairwise_flip(period: str, a: str, b: str) -> pd.DataFrame:
    """sensitivity.pairwise_flip_for(A, B) under the official profile, cached."""
    return cached(_flip, period, official(period).model_dump_json(), a, b)


@st.cache_data(show_spinner=False, max_entries=8)
def _period_models(path: str, v: int, period: str, _con) -> pd.DataFrame:
    return registry.current_models(_con, period)


@st.cache_data(show_spinner=False, max_entries=64)
def _unit_models(path: str, v: int, period: str, unit: str, _con) -> tuple[pd.DataFrame, pd.DataFrame]:
    # the period's registry is read once (the current-row query runs over every model of the period,
    # whichever unit is asked), then each unit's rows are taken from it
    models = _period_models(path, v, period, _con)
    return (registry.list_models(_con, period, unit, models=models),
            derived.derived_breakdown(_con, period, unit, models=models))


def unit_models(period: str, unit: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the unit's models, the derived criteria with the models each came from), cached."""
    return cached(_unit_models, period, unit)


@st.cache_data(show_spinner=False, max_entries=16)
def _models_summary(path: str, v: int, period: str, _con) -> pd.DataFrame:
    return derived.models_summary_by_unit(_con, period)


def models_summary(period: str) -> pd.DataFrame:
    return cached(_models_summary, period)


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages/ scan: show the app instead
    from pages.widgets import ensure_app

    ensure_app()
