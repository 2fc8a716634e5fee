"""Shared UI helpers of the dashboard: the connection, cached results, headers, filters, formats.

Pages call these and the library; no SQL and no scoring logic here either. Every cached
function is keyed by the database path, the period, the weight profile (its JSON) and
``store.results_version`` (``version()``), so a write that can change a result shows at once,
and a draft profile or a council member's submission does not make every session recompute;
what lists those writes themselves uses ``write_version()``. The cursor is passed as an
underscore argument (not hashed).
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from danvan_scoring import auth, derived, insights, oidc, publish, registry, results, sensitivity, store
from danvan_scoring import periods as period_store
from danvan_scoring import units as unit_store
from danvan_scoring.cli import default_demo_allowed, ensure_database
from danvan_scoring.criteria import Framework
from danvan_scoring.export import neutralise_formulas
from danvan_scoring.paths import default_db_path
from danvan_scoring.ranking import rank_change
from danvan_scoring.weights import WeightProfile, official_profile
from pages.formatting import md, vn, vn_cells, vn_int  # noqa: F401  (pages call them as common.*)

log = logging.getLogger("danvan.app")


def new_error_id() -> str:
    """A short id shown to the user with an error and written to the server log with its details."""
    return uuid.uuid4().hex[:8]

COOKIE = "danvan_session"
DEMO_BADGE = "Dữ liệu minh họa"
NO_DATA = "Chưa có dữ liệu"
PERIOD_LABEL = "Kỳ đánh giá"
MISSING = "—"   # shown by every table for a missing value (Streamlit's default is the English "None")

TIER_COLORS = {
    "xuat_sac": "#1b7f3b",
    "tot": "#5aae61",
    "kha": "#3b7dd8",
    "trung_binh": "#f0a030",
    "yeu": "#d7301f",
    None: "#9e9e9e",
}

# url path → (file, title, icon, permission); the order is the menu order
PAGES = {
    "tong-quan": ("pages/tong-quan.py", "Tổng quan", ":material/dashboard:", "view"),
    "xep-hang": ("pages/xep-hang.py", "Xếp hạng", ":material/leaderboard:", "view"),
    "so-sanh": ("pages/so-sanh.py", "So sánh", ":material/compare_arrows:", "view"),
    "ho-so": ("pages/ho-so.py", "Hồ sơ đơn vị", ":material/account_balance:", "view"),
    "trong-so": ("pages/trong-so.py", "Trọng số", ":material/tune:", "weights"),
    "nhap-du-lieu": ("pages/nhap-du-lieu.py", "Nhập dữ liệu", ":material/upload_file:", "import"),
    "mo-hinh": ("pages/mo-hinh.py", "Mô hình", ":material/lightbulb:", "view"),
    "quan-tri": ("pages/quan-tri.py", "Quản trị", ":material/admin_panel_settings:", "users"),
    "khen-thuong": ("pages/khen-thuong.py", "Khen thưởng", ":material/military_tech:", "awards"),
    "bao-cao": ("pages/bao-cao.py", "Báo cáo", ":material/summarize:", "view"),
}


# --------------------------------------------------------------------------- garbage collector
_FROZEN = threading.Event()


def freeze_long_lived_heap() -> None:
    """Called by app.py on every run; does its work once per process. Moves the objects that live
    as long as the server process out of the collector's sight.

    Streamlit runs a full ``gc.collect()`` after every script run (``runner.postScriptGC``, on by
    default, so that a session's dropped frames are freed at once). With Streamlit, pandas, Plotly
    and DuckDB loaded that collection walks some 130,000 module-level objects — classes, functions,
    Plotly's validators — and took about 80 ms of every click on Xếp hạng, before the browser got
    the end of the run. ``gc.freeze`` (made for this) puts the objects alive now into a permanent
    generation; whatever a run creates afterwards is still collected after that run. Plotly builds
    its trace classes and validators on first use, so one small figure of each kind the pages draw
    is built first."""
    if _FROZEN.is_set():
        return
    _FROZEN.set()
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Bar(x=[1], y=["a"], text=["1"], marker_color=["#000"], customdata=[["1"]]), row=1, col=1)
    fig.add_trace(go.Scatter(x=[1], y=["a"], mode="markers", error_x=dict(array=[1], arrayminus=[0])), row=1, col=2)
    go.Figure([go.Scattergl(x=[1], y=[1]), go.Scatterpolar(r=[1], theta=["a"], fill="toself")]).to_dict()
    fig.update_layout(title="x", separators=",.").to_dict()
    import pyarrow  # noqa: F401  (st.dataframe imports it on first use)
    gc.collect()
    gc.freeze()


# --------------------------------------------------------------------------- app run
# Streamlit treats a ``pages/`` folder next to app.py as the legacy multipage mechanism: the
# first script run after the server starts executes ``pages/<name>.py`` directly when the URL
# names it, without app.py (so without sign-in and without the role's page list). Page files
# are named after their URL paths (``pages/ho-so.py`` for ``/ho-so``) and every page calls
# ``header`` first, which hands such a run to app.py: sign-in and st.navigation apply, and a
# shared deep link opened right after a restart lands where it should, with no "page not found".
APP_PATH = Path(__file__).resolve().parent.parent / "app.py"
_RUN = threading.local()


@contextmanager
def app_run():
    """app.py wraps each script run in this; pages check it."""
    _RUN.active = True
    try:
        yield
    finally:
        _RUN.active = False


def ensure_app() -> None:
    """Run the page only through app.py: a page file run on its own runs the app instead."""
    if getattr(_RUN, "active", False):
        return
    import runpy

    runpy.run_path(str(APP_PATH), run_name="__main__")
    st.stop()


# --------------------------------------------------------------------------- connection
def db_path() -> str:
    target = default_db_path()
    return target if isinstance(target, str) else str(Path(target).resolve())


class MissingDatabase(Exception):
    """The database file named by DANVAN_DB (or ``danvan serve --db``) does not exist."""


@st.cache_resource(show_spinner="Đang mở cơ sở dữ liệu…")
def _connection(path: str):
    if not store.is_url(path) and not Path(path).exists():
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
    return cur


def db():
    cur = st.session_state.get("_cursor")
    return cur if cur is not None else open_run()


_RESULTS_VERSION: dict[tuple[str, int], int] = {}


def version() -> int:
    """The cache key of computed results: moves with any write that can change one (scores, models,
    official profile, publication…), not with a draft profile or a council member's submission.

    A page asks for it once per cached read (20-odd times a run). ``store.results_version`` filters
    the audit log (1.5 ms); ``data_version`` (every write) is a plain max (0.5 ms), so the first
    is looked up again only when the second moved — still exact, and three times cheaper."""
    con = db()
    key = (db_path(), store.data_version(con))
    got = _RESULTS_VERSION.get(key)
    if got is None:
        if len(_RESULTS_VERSION) > 64:
            _RESULTS_VERSION.clear()
        got = _RESULTS_VERSION[key] = store.results_version(con)
    return got


def write_version() -> int:
    """Moves with every write: the key for what lists the writes themselves (submissions, drafts)."""
    return store.data_version(db())


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


# --------------------------------------------------------------------------- cached reads
@st.cache_data(show_spinner=False, max_entries=64)
def _official_json(path: str, period: str, v: int, _con) -> str:
    return official_profile(_con, period).model_dump_json()


def official(period: str) -> WeightProfile:
    return WeightProfile.model_validate_json(_official_json(db_path(), period, version(), db()))


def framework(period: str) -> Framework:
    return period_store.framework_for_period(db(), period)


@st.cache_data(show_spinner=False, max_entries=64)
def _base_results(path: str, period: str, profile_json: str, v: int, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    return results.period_results(_con, period, profile, with_previous=False, scores=_scores(path, period, v, _con))


@st.cache_data(show_spinner="Đang tính điểm và xếp hạng…", max_entries=64)
def _results(path: str, period: str, profile_json: str, v: int, _con) -> pd.DataFrame:
    base = _base_results(path, period, profile_json, v, _con)
    prev_period = period_store.previous_period(_con, period)
    prev = None
    if prev_period:
        prev = _base_results(path, prev_period, _official_json(path, prev_period, v, _con), v, _con)
    return rank_change(base, prev)


def period_table(period: str, profile: WeightProfile | None = None) -> pd.DataFrame:
    """The period's results (with change against the previous period), cached."""
    profile = profile or official(period)
    return _results(db_path(), period, profile.model_dump_json(), version(), db())


def base_table(period: str) -> pd.DataFrame:
    """The period's results under its official profile, without the previous period."""
    return _base_results(db_path(), period, official(period).model_dump_json(), version(), db())


@st.cache_data(show_spinner=False, max_entries=16)
def _scores(path: str, period: str, v: int, _con) -> pd.DataFrame:
    """The scores the period is ranked on (typed-in values plus those derived from the model registry)."""
    return results.period_scores(_con, period)


def scores(period: str) -> pd.DataFrame:
    return _scores(db_path(), period, version(), db())


@st.cache_data(show_spinner=False, max_entries=128)
def _unit_scores(path: str, period: str, unit: str, v: int, _con) -> pd.DataFrame:
    sc = _scores(path, period, v, _con)
    return sc[sc["unit_code"] == unit].reset_index(drop=True)


def unit_scores(period: str, unit: str) -> pd.DataFrame:
    """One unit's rows of ``scores(period)``, cached on their own: the profile page then unpickles
    a few dozen rows per run instead of the period's 130,000."""
    return _unit_scores(db_path(), period, unit, version(), db())


@st.cache_data(show_spinner=False, max_entries=16)
def _contrib(path: str, period: str, profile_json: str, v: int, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    fw = period_store.framework_for_period(_con, period)
    units = _base_results(path, period, profile_json, v, _con)["unit_code"].tolist()
    return insights.contribution_matrix(_scores(path, period, v, _con), fw, profile, units)


def contributions(period: str) -> pd.DataFrame:
    return _contrib(db_path(), period, official(period).model_dump_json(), version(), db())


@st.cache_data(show_spinner=False, max_entries=8)
def _periods_with_data(path: str, v: int, _con) -> list[str]:
    return [p for p in period_store.periods(_con) if results.scored_units(_con, p)]


def periods() -> list[str]:
    return period_store.periods(db())


def periods_with_data() -> list[str]:
    return _periods_with_data(db_path(), version(), db())


@st.cache_data(show_spinner=False, max_entries=4)
def _provinces(path: str, v: int, _con) -> dict[str, str]:
    p = unit_store.provinces(_con)
    return dict(zip(p["province_code"], p["short_name"].fillna(p["name"])))


def province_names() -> dict[str, str]:
    return _provinces(db_path(), version(), db())


@st.cache_data(show_spinner=False, max_entries=2)
def _unit_points(path: str, v: int, _con):
    return unit_store.units(_con)[["lon", "lat"]].dropna()


def unit_points():
    """Centroids of every official unit: drawn in light grey, they outline the country offline."""
    return _unit_points(db_path(), version(), db())


def is_demo() -> bool:
    return store.is_demo(db())


def period_label(period: str) -> str:
    if len(period) == 4:
        return f"Năm {period}"
    year, part = period[:4], period[5:]
    return {"H1": f"6 tháng đầu năm {year}", "H2": f"6 tháng cuối năm {year}"}.get(
        part, f"Quý {part[1:]}/{year}" if part.startswith("Q") else period)


# --------------------------------------------------------------------------- rank uncertainty
# Monte Carlo over weights (sensitivity.uncertainty_table), computed once per period × profile ×
# data version × draws × spread and kept in st.cache_data; the widgets on Xếp hạng change the
# draws and the spread for the whole session (kept in UNC_STATE, not in the widget keys, so the
# choice survives a page switch).
UNC_DRAWS = 1000
UNC_SPREAD = 0.25
UNC_SEED = 0
UNC_STATE = "_unc_settings"
STABLE_MARK = {True: "Vững", False: "Chưa vững"}


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
def _inputs(path: str, period: str, profile_json: str, v: int, _con) -> sensitivity.PeriodInputs:
    """sensitivity.period_inputs from the cached scores and results (not read and ranked again)."""
    profile = WeightProfile.model_validate_json(profile_json)
    return sensitivity.period_inputs(_con, period, profile, scores=_scores(path, period, v, _con),
                                     results=_base_results(path, period, profile_json, v, _con))


@st.cache_data(show_spinner="Đang thử lại xếp hạng với trọng số thay đổi…", max_entries=32)
def _uncertainty(path: str, period: str, profile_json: str, v: int, draws: int, spread: float, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    return sensitivity.uncertainty_table(_con, period, profile, draws=draws, spread=spread, seed=UNC_SEED,
                                         inputs=_inputs(path, period, profile_json, v, _con))


def uncertainty(period: str, profile: WeightProfile | None = None) -> pd.DataFrame:
    """The period's rank-uncertainty table (one row per ranked unit), cached."""
    draws, spread = unc_settings()
    profile = profile or official(period)
    return _uncertainty(db_path(), period, profile.model_dump_json(), version(), draws, spread, db())


@st.cache_data(show_spinner=False, max_entries=16)
def _published(path: str, period: str, v: int, _con) -> tuple[pd.DataFrame | None, dict]:
    pub = publish.published(_con, period)
    if pub is None:   # the page shows its own cached live table
        _, info = publish.published_or_live(_con, period, live_table=False)
        return None, info
    table, info = publish.published_or_live(_con, period, check_live=True)
    return table, info


def published(period: str) -> tuple[pd.DataFrame | None, dict]:
    """(frozen table or None, info with the Vietnamese ``message``) of the period's latest publication."""
    return _published(db_path(), period, version(), db())


@st.cache_data(show_spinner=False, max_entries=16)
def _ranking_table(path: str, period: str, source: str, profile_json: str, v: int, draws: int, spread: float,
                   _con) -> pd.DataFrame:
    if source == "published":
        table = _published(path, period, v, _con)[0]
    else:
        table = _results(path, period, profile_json, v, _con)
    unc = _uncertainty(path, period, profile_json, v, draws, spread, _con)
    return sensitivity.attach_intervals(table, unc)


def ranking_table(period: str, source: str = "live", profile: WeightProfile | None = None) -> pd.DataFrame:
    """The ranking page's table (live or the published snapshot) with the interval columns, cached."""
    draws, spread = unc_settings()
    profile = profile or official(period)
    return _ranking_table(db_path(), period, source, profile.model_dump_json(), version(), draws, spread, db())


@st.cache_data(show_spinner=False, max_entries=16)
def _ranking_view(path: str, period: str, source: str, profile_json: str, v: int, draws: int, spread: float,
                  _con) -> tuple[pd.DataFrame, dict]:
    table = _ranking_table(path, period, source, profile_json, v, draws, spread, _con)
    return results_view(table, framework(period), period)


def ranking_view(period: str, source: str, profile: WeightProfile, rows: pd.Index) -> tuple[pd.DataFrame, dict]:
    """results_view of ``ranking_table(period, source, profile)`` limited to ``rows`` (an index of that
    table). The view of the whole table is built once per period, profile and data version: filtering
    then only selects rows, instead of rebuilding 3,321 formatted rows on every filter change."""
    draws, spread = unc_settings()
    view, config = _ranking_view(db_path(), period, source, profile.model_dump_json(), version(), draws, spread,
                                 db())
    return view.loc[rows], config


@st.cache_data(show_spinner=False, max_entries=64)
def _profile_json_id(path: str, profile_id: int, v: int, _con) -> str:
    from danvan_scoring.weights import load_profile_id

    return load_profile_id(_con, int(profile_id)).model_dump_json()


def profile_by_id(profile_id: int) -> WeightProfile:
    return WeightProfile.model_validate_json(_profile_json_id(db_path(), int(profile_id), version(), db()))


@st.cache_data(show_spinner=False, max_entries=64)
def _swing(path: str, period: str, profile_json: str, unit: str, v: int, _con):
    profile = WeightProfile.model_validate_json(profile_json)
    sw = sensitivity.rank_swing_for(_con, period, profile, unit, inputs=_inputs(path, period, profile_json, v, _con))
    return sw.summary, sw.curve, sw.most


def rank_swing(period: str, unit: str) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """(summary, curve, most) of sensitivity.rank_swing_for under the official profile, cached."""
    return _swing(db_path(), period, official(period).model_dump_json(), unit, version(), db())


@st.cache_data(show_spinner=False, max_entries=64)
def _flip(path: str, period: str, profile_json: str, a: str, b: str, v: int, _con) -> pd.DataFrame:
    profile = WeightProfile.model_validate_json(profile_json)
    return sensitivity.pairwise_flip_for(_con, period, profile, a, b,
                                         inputs=_inputs(path, period, profile_json, v, _con))


def pairwise_flip(period: str, a: str, b: str) -> pd.DataFrame:
    """sensitivity.pairwise_flip_for(A, B) under the official profile, cached."""
    return _flip(db_path(), period, official(period).model_dump_json(), a, b, version(), db())


@st.cache_data(show_spinner=False, max_entries=64)
def _unit_models(path: str, period: str, unit: str, v: int, _con) -> tuple[pd.DataFrame, pd.DataFrame]:
    return registry.list_models(_con, period, unit), derived.derived_breakdown(_con, period, unit)


def unit_models(period: str, unit: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the unit's models, the derived criteria with the models each came from), cached."""
    return _unit_models(db_path(), period, unit, version(), db())


@st.cache_data(show_spinner=False, max_entries=16)
def _models_summary(path: str, period: str, v: int, _con) -> pd.DataFrame:
    return derived.models_summary_by_unit(_con, period)


def models_summary(period: str) -> pd.DataFrame:
    return _models_summary(db_path(), period, version(), db())


def unc_note() -> str:
    draws, spread = unc_settings()
    return sensitivity.interval_note(draws, spread).replace(f"{draws} lần", f"{vn_int(draws)} lần")


# --------------------------------------------------------------------------- page furniture
def guarded(fn):
    """Run a page body or a fragment; an unexpected error becomes a Vietnamese message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except store.PermissionDenied as exc:
            st.error(f"Không được phép: {exc}", icon=":material/block:")
        except store.StoreError as exc:
            st.error(str(exc), icon=":material/error:")
        except Exception:  # the user never sees a traceback; the server log keeps it
            error_id = new_error_id()
            log.exception("page error (error id %s)", error_id)
            st.error("Đã xảy ra lỗi không mong đợi khi hiển thị trang này. Hãy tải lại trang; nếu lỗi "
                     "còn lặp lại, xin báo cho quản trị viên (chi tiết đã được ghi vào nhật ký máy chủ, "
                     f"mã lỗi {error_id}).", icon=":material/error:")
        return None

    return wrapper


ROW_HEIGHT = 36      # px of one row of st.dataframe's grid (the header row is as tall)
TABLE_BORDER = 4     # px of the grid's top and bottom borders together


def table_height(rows: int) -> int:
    """The height in pixels at which st.dataframe shows ``rows`` rows and its header, no scroll bar."""
    return ROW_HEIGHT * (rows + 1) + TABLE_BORDER


def safe_frame(data):
    """``data`` (a frame or a pandas Styler) with text cells a spreadsheet would run as formulas
    (``=``, ``+``, ``-``, ``@``…) given a leading apostrophe, headers unchanged: st.dataframe's own
    toolbar "Download as CSV" exports what the grid holds (issue 11, point 4)."""
    if isinstance(data, pd.DataFrame):
        return neutralise_formulas(data, headers=False, keep_numbers=True)
    inner = getattr(data, "data", None)
    if isinstance(inner, pd.DataFrame):   # a Styler: styles are computed from .data when drawn
        data.data = neutralise_formulas(inner, headers=False, keep_numbers=True)
    return data


def table(data, *, max_height: int | None = None, **kwargs):
    """``st.dataframe`` the way every table of the dashboard is shown: full width, no index column,
    formulas neutralised (``safe_frame``), and a missing value as "—" (``MISSING``; Streamlit's own
    default is the English "None"). ``max_height``: as tall as its rows up to that many pixels (the
    grid scrolls beyond it)."""
    data = safe_frame(data)
    if max_height is not None:
        rows = len(getattr(data, "data", data))   # a pandas Styler holds its frame in .data
        kwargs["height"] = min(max_height, table_height(rows))
    return st.dataframe(data, hide_index=True, width="stretch", placeholder=MISSING, **kwargs)


def demo_badge() -> None:
    if is_demo():
        st.badge(DEMO_BADGE, icon=":material/science:", color="orange")
        st.caption("Số liệu tổng hợp ngẫu nhiên để trình diễn — không phải kết quả thật của đơn vị nào.")


def header(title: str, subtitle: str | None = None) -> None:
    ensure_app()
    st.title(title)
    if subtitle:
        st.caption(subtitle)
    demo_badge()


def no_data(what: str = "") -> None:
    msg = f"**{NO_DATA}** {what}".strip()
    st.info(msg + "\n\nCán bộ nhập liệu tải bảng điểm lên ở trang **Nhập dữ liệu** (hoặc dùng lệnh "
            "`danvan import`); kết quả sẽ hiện ở đây ngay sau khi nhập.", icon=":material/inbox:")


def period_select(key: str, *, container=None, only_with_data: bool = True, default: str | None = None) -> str | None:
    """The period selectbox (label "Kỳ đánh giá"); the choice is shared between pages."""
    options = periods_with_data() if only_with_data else periods()
    if not options:
        options = periods()
    if not options:
        return None
    remembered = default or st.session_state.get("_period")
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    box = container or st
    kwargs = {}
    if key not in st.session_state:  # a value set through session state wins; never pass both
        kwargs["index"] = options.index(remembered) if remembered in options else len(options) - 1
    value = box.selectbox(PERIOD_LABEL, options, key=key, format_func=period_label, **kwargs)
    st.session_state["_period"] = value
    return value


# --------------------------------------------------------------------------- formats
# (pages/formatting.py; imported above so pages keep calling common.vn, common.md …)


def profile_link(unit_code: str, period: str) -> str:
    return f"ho-so?unit={unit_code}&period={period}"


def group_label(fw: Framework, code: str) -> str:
    return f"Nhóm {code} — {fw.group(code).name}"


def unit_labels(res: pd.DataFrame) -> dict[str, str]:
    """unit code → "Xã Đức Đồng (Hà Tĩnh) · 18304", for selectboxes."""
    prov = res["province_code"].map(province_names()).fillna(res["province_name"]).fillna("")
    text = res["unit_name"].fillna(res["unit_code"]) + " (" + prov + ") · " + res["unit_code"]
    return dict(zip(res["unit_code"], text))


def reasons(row) -> str:
    """Why a unit is not ranked, or its vetoes, in words."""
    parts = []
    if isinstance(row.get("missing"), str) and row["missing"]:
        parts.append(f"thiếu điểm: {row['missing']}")
    if isinstance(row.get("missing_evidence"), str) and row["missing_evidence"]:
        parts.append(f"thiếu minh chứng: {row['missing_evidence']}")
    if isinstance(row.get("vetoes"), str) and row["vetoes"]:
        parts.append(f"bị giới hạn xếp loại: {row['vetoes']}")
    return "; ".join(parts)


def interval_texts(res: pd.DataFrame) -> list:
    """"5–8" (or "5" when the interval is one rank) per row; None for units without a rank."""
    out = []
    for lo, hi in zip(res["rank_p05"], res["rank_p95"]):
        if pd.isna(lo) or pd.isna(hi):
            out.append(None)
        else:
            out.append(f"{int(lo)}" if int(lo) == int(hi) else f"{int(lo)}–{int(hi)}")
    return out


def stable_marks(res: pd.DataFrame) -> list:
    return [None if pd.isna(x) else STABLE_MARK[bool(x)] for x in res["stable"]]


def results_view(res: pd.DataFrame, fw: Framework, period: str, *, compact: bool = False) -> tuple[pd.DataFrame, dict]:
    """The results table with Vietnamese headers and its column configuration."""
    groups = [g.code for g in fw.scored_groups]
    provinces = province_names()
    out = pd.DataFrame({"Hạng": res["rank"]})
    intervals = "rank_p05" in res.columns
    if intervals:
        out["Khoảng hạng"] = interval_texts(res)
        out["Độ vững"] = stable_marks(res)
    out = out.assign(**{
        "Hạng trong khối": res["block_rank"],
        "Mã": res["unit_code"],
        "Đơn vị": res["unit_name"],
        "Tỉnh": res["province_code"].map(provinces).fillna(res["province_name"]),
        "Khối thi đua": res["block_name"],
        "Tổng điểm": res["total"].round(2),
        "Xếp loại": res["tier"].where(res["eligible"].astype(bool), insights.NOT_ELIGIBLE_LABEL),
    })
    if not compact:
        for g in groups:
            out[f"Nhóm {g}"] = res[f"group_{g}"].round(2)
    out["± điểm"] = res["delta_total"] if "delta_total" in res.columns else pd.NA
    out["± hạng"] = res["delta_rank"] if "delta_rank" in res.columns else pd.NA
    if not compact:
        out["Tự chấm − thẩm định"] = res["gap"]
        out["Đủ điều kiện"] = res["eligible"].astype(bool)
        out["Ghi chú"] = [reasons(r) for r in res[["missing", "missing_evidence", "vetoes"]].to_dict("records")]
        out["Loại đơn vị"] = res["unit_type"].map(unit_store.UNIT_TYPES).fillna(res["unit_type"])
    out["Hồ sơ"] = [profile_link(u, period) for u in res["unit_code"]]
    # repeated labels travel once (Arrow dictionary) instead of once a row: the national table
    # is sent to the browser on every rerun
    for col in ("Độ vững", "Tỉnh", "Khối thi đua", "Xếp loại", "Ghi chú", "Loại đơn vị"):
        if col in out.columns:
            out[col] = out[col].astype("category")
    gmax = insights.group_max(fw, official(period))
    config = {
        "Hạng": st.column_config.NumberColumn(help="Hạng toàn bộ (đồng hạng khi tổng điểm bằng nhau)", format="%d",
                                              width="small"),
        "Hạng trong khối": st.column_config.NumberColumn(help="Hạng trong khối, cụm thi đua", format="%d",
                                                         width="small"),
        "Mã": st.column_config.TextColumn(width="small"),
        "Khoảng hạng": st.column_config.TextColumn(
            width="small", help="Trong 90% số lần thử thay đổi trọng số, đơn vị đứng trong khoảng hạng này "
                                "(từ hạng tốt nhất đến hạng kém nhất)"),
        "Độ vững": st.column_config.TextColumn(
            width="small", help="Vững: khoảng hạng chỉ lệch vài bậc quanh hạng hiện tại; Chưa vững: chỉ cần đổi "
                                "trọng số một chút, thứ hạng đã khác nhiều"),
        "Tổng điểm": st.column_config.ProgressColumn(format="%.2f", min_value=0, max_value=100,
                                                     help="Tổng điểm thẩm định (thang 100)"),
        "± điểm": st.column_config.NumberColumn(format="%+.2f", help="Thay đổi tổng điểm so với kỳ trước"),
        "± hạng": st.column_config.NumberColumn(format="%+d", help="Số bậc tăng (+) hoặc giảm (−) so với kỳ trước"),
        "Tự chấm − thẩm định": st.column_config.NumberColumn(
            format="%+.2f", help="Điểm tự chấm trừ điểm thẩm định: dương là đơn vị tự chấm cao hơn"),
        "Đủ điều kiện": st.column_config.CheckboxColumn(help="Đủ điều kiện xếp loại"),
        "Hồ sơ": st.column_config.LinkColumn(display_text="Xem hồ sơ", help="Mở hồ sơ đơn vị"),
    }
    for g in groups:
        config[f"Nhóm {g}"] = st.column_config.NumberColumn(
            format="%.2f", help=f"{group_label(fw, g)} (tối đa {vn(gmax[g], 1)} điểm)")
    return out, config


# --------------------------------------------------------------------------- filters
def filter_multiselect(container, label: str, options, *, key: str, **kwargs) -> list:
    """A filter multiselect: nothing chosen means every unit ("Tất cả"), so there is no Streamlit
    "Select all" item (English, and pointless here)."""
    return container.multiselect(label, options, key=key, placeholder="Tất cả", select_all=False, **kwargs)


def filter_bar(res: pd.DataFrame, key: str, *, search: bool = False, tier: bool = False,
               unit_type: bool = False, fw: Framework | None = None) -> pd.DataFrame:
    """Province / block (/ tier / type / search) filters above a table; returns the rows kept."""
    provinces = province_names()
    cols = st.columns([1.2, 1.6, 1.0, 1.0] if (tier or unit_type) else [1, 1])
    prov_opts = sorted(res["province_code"].dropna().unique().tolist())
    chosen_prov = filter_multiselect(cols[0], "Tỉnh, thành phố", prov_opts, key=f"{key}_prov",
                                     format_func=lambda c: provinces.get(c, c))
    scope = res[res["province_code"].isin(chosen_prov)] if chosen_prov else res
    blocks = scope[["block", "block_name", "province_code"]].dropna(subset=["block"]).drop_duplicates("block")
    block_names = {b: f"{n} — {provinces.get(p, p)}" for b, n, p in blocks.itertuples(index=False)}
    if f"{key}_block" in st.session_state:  # keep only blocks still offered
        st.session_state[f"{key}_block"] = [b for b in st.session_state[f"{key}_block"] if b in block_names]
    chosen_block = filter_multiselect(cols[1], "Khối thi đua", sorted(block_names), key=f"{key}_block",
                                      format_func=lambda b: block_names.get(b, b))
    chosen_tier = chosen_type = None
    if tier and fw is not None:
        tier_opts = [t.code for t in fw.tiers] + ["__none__"]
        chosen_tier = filter_multiselect(
            cols[2], "Xếp loại", tier_opts, key=f"{key}_tier",
            format_func=lambda t: insights.NOT_ELIGIBLE_LABEL if t == "__none__" else fw.tier_names[t])
        chosen_tier = [None if t == "__none__" else t for t in chosen_tier]
    if unit_type:
        present = set(res["unit_type"].dropna().unique().tolist())   # not set(column): slow on Arrow strings
        type_opts = [t for t in unit_store.UNIT_TYPES if t in present]
        chosen_type = filter_multiselect(cols[3], "Loại đơn vị", type_opts, key=f"{key}_type",
                                         format_func=lambda t: unit_store.UNIT_TYPES.get(t, t))
    text = ""
    if search:
        # search as you type (committed after a 300 ms pause), no "Press Enter" step
        text = st.text_input("Tìm đơn vị", key=f"{key}_search", placeholder="Tên hoặc mã đơn vị, ví dụ: Đức Đồng",
                             type="search", live="300ms",
                             help="Không cần gõ dấu: “duc dong” cũng tìm được “Đức Đồng”")
    return insights.filter_results(res, search=text, provinces=chosen_prov, blocks=chosen_block,
                                   tiers=chosen_tier, unit_types=chosen_type)


# --------------------------------------------------------------------------- charts
def bar_top(res: pd.DataFrame, n: int, title: str) -> go.Figure:
    """Top-n bars of the total; with the interval columns, a second panel beside it shows each
    unit's rank with error bars from its 5th to its 95th percentile rank over the weight draws.

    The figure is kept per drawn rows and title (building a Plotly figure with its validation costs
    about 20 ms), so a rerun that leaves the leaders unchanged does not rebuild it."""
    cols = [c for c in ("unit_code", "unit_name", "province_code", "rank", "total", "tier", "tier_code",
                        "rank_p05", "rank_p95", "stable") if c in res.columns]
    top = res.loc[res["rank"].notna(), cols].head(n).iloc[::-1]
    return _bar_top(top, title, province_names())


@st.cache_resource(show_spinner=False, max_entries=64)
def _bar_top(top: pd.DataFrame, title: str, provinces: dict[str, str]) -> go.Figure:
    names = [f"{r.unit_name} ({provinces.get(r.province_code, '')})" for r in top.itertuples()]
    intervals = "rank_p05" in top.columns and top["rank_p05"].notna().any()
    span = interval_texts(top) if intervals else [None] * len(top)
    bars = go.Bar(
        x=top["total"].round(2), y=names, orientation="h", name="Tổng điểm", showlegend=False,
        marker_color=[TIER_COLORS.get(t, TIER_COLORS[None]) for t in top["tier_code"]],
        text=[vn(t) for t in top["total"]], textposition="outside", cliponaxis=False,
        customdata=list(zip(top["rank"].astype(str), top["tier"], [x or "—" for x in span])),
        hovertemplate="%{y}<br>Hạng %{customdata[0]} (khoảng %{customdata[2]}) · %{customdata[1]}"
                      "<br>Tổng điểm %{x:.2f}<extra></extra>")
    height = max(260, 26 * len(top) + 90)
    if not intervals:
        fig = go.Figure(bars)
        fig.update_layout(title=title, height=height, margin=dict(l=10, r=40, t=50, b=30),
                          xaxis=dict(range=[0, 105], title="Tổng điểm"), yaxis=dict(automargin=True),
                          separators=",.")
        return fig
    from plotly.subplots import make_subplots

    rank = top["rank"].astype(float)
    lo = top["rank_p05"].astype(float)
    hi = top["rank_p95"].astype(float)
    stable = top["stable"].fillna(False).astype(bool)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.68, 0.32], horizontal_spacing=0.03,
                        subplot_titles=("Tổng điểm", "Hạng và khoảng hạng (90%)"))
    fig.add_trace(bars, row=1, col=1)
    fig.add_trace(go.Scatter(
        x=rank, y=names, mode="markers", name="Hạng", showlegend=False,
        marker=dict(size=9, color=["#1b7f3b" if s else "#d7301f" for s in stable],
                    symbol=["circle" if s else "diamond" for s in stable]),
        error_x=dict(type="data", symmetric=False, array=(hi - rank).clip(lower=0),
                     arrayminus=(rank - lo).clip(lower=0), color="#616161", thickness=1.5, width=4),
        customdata=list(zip(top["rank"].astype(int).astype(str), span, [STABLE_MARK[s] for s in stable])),
        hovertemplate="%{y}<br>Hạng %{customdata[0]}; khoảng hạng %{customdata[1]} · %{customdata[2]}"
                      "<extra></extra>"), row=1, col=2)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=20, t=70, b=30), separators=",.",
                      yaxis=dict(automargin=True))
    fig.update_xaxes(range=[0, 105], title_text="Tổng điểm", row=1, col=1)
    fig.update_xaxes(range=[0, float(hi.max()) + 1], title_text="Hạng (càng sang trái càng cao)", row=1, col=2)
    return fig


def tier_legend_order(fw: Framework) -> list[tuple[str | None, str]]:
    return [(t.code, t.name) for t in fw.tiers] + [(None, insights.NOT_ELIGIBLE_LABEL)]


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages/ scan: show the app instead
    ensure_app()
