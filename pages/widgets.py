"""Widgets and page furniture of the dashboard: the app-run guard, error handling, tables,
headers, the period selector, filters and the results table view.

Data comes from pages/data.py (cached), text from pages/formatting.py; no SQL here.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import streamlit as st

from danvan_scoring import insights, lifecycle, sensitivity, store
from danvan_scoring import units as unit_store
from danvan_scoring.criteria import INCOMPLETE_LABEL, NOT_ELIGIBLE_LABEL, Framework
from danvan_scoring.export import neutralise_formulas
from danvan_scoring.weights import WeightProfile
from pages import data
from pages.formatting import (
    ESTIMATED_HELP,
    MISSING,
    PREV_MARK_COLUMN,
    RANGE_LABEL,
    STABLE_LABEL,
    estimated_marks,
    group_label,
    interval_texts,
    md,
    period_label,
    profile_link,
    reasons,
    stable_marks,
    vn,
    vn_int,
)

log = logging.getLogger("danvan.app")

DEMO_BADGE = "Dữ liệu minh họa"
NO_DATA = "Chưa có dữ liệu"
PERIOD_LABEL = "Kỳ đánh giá"


def new_error_id() -> str:
    """A short id shown to the user with an error and written to the server log with its details."""
    return uuid.uuid4().hex[:8]


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


# --------------------------------------------------------------------------- uploads
# Streamlit keeps every file PUT to /_stcore/upload_file/<session>/<id> in memory until that
# session ends, for any live session, signed in or not, with or without an uploader on its page
# (issue 11, point 3: 8 × 40 MB kept a server at 542 MB). The dashboard keeps a file only for a
# session whose signed-in account may import, and at most UPLOADS_PER_SESSION files per session
# (the newest): the page's one uploader needs one. The proxy's limits (deploy/nginx.conf) come first.
UPLOAD_PERMISSION = "import"
UPLOADS_PER_SESSION = 2
_UPLOADS_GUARDED = threading.Event()


def _may_upload(session_id: str) -> bool:
    from streamlit.runtime import Runtime

    session = Runtime.instance().get_app_session(session_id) if Runtime.exists() else None
    if session is None:
        return False
    state = session.session_state
    who = state["actor"] if "actor" in state else None
    # a unit account uploads evidence for its own dossier (issue 13)
    return who is not None and (who.can(UPLOAD_PERMISSION) or who.can("dossier", getattr(who, "unit_code", None)))


def guard_uploads() -> None:
    """Called by app.py on every run; installs the upload rule above once per process."""
    if _UPLOADS_GUARDED.is_set():
        return
    from streamlit.runtime import Runtime

    if not Runtime.exists():   # AppTest: no server, no upload endpoint
        return
    _UPLOADS_GUARDED.set()
    mgr = Runtime.instance().uploaded_file_mgr
    add = mgr.add_file

    def add_file(session_id, file):
        if not _may_upload(session_id):
            log.warning("upload refused: session %s is not signed in with the %s permission",
                        session_id[:8], UPLOAD_PERMISSION)
            return
        add(session_id, file)
        kept = getattr(mgr, "file_storage", {}).get(session_id) or {}
        for old in list(kept)[:-UPLOADS_PER_SESSION]:
            mgr.remove_file(session_id, old)

    mgr.add_file = add_file


def cookie_script(name: str, value: str | None, max_age: int) -> str:
    """A frame's script that sets (or, with None, deletes) a cookie of the dashboard's page.

    Streamlit gives a page no way to send a Set-Cookie header, so the cookie is set from
    JavaScript and cannot be HttpOnly (README, Bảo mật): it is SameSite=Lax, and Secure whenever
    the page itself came over HTTPS (behind the proxy of deploy/nginx.conf)."""
    cookie = f"{name}={value or ''}; path=/; max-age={max_age if value else 0}; SameSite=Lax"
    return ("<script>const w = window.parent; "
            f"w.document.cookie = {cookie!r} + (w.location.protocol === 'https:' ? '; Secure' : '');</script>")


def replayed(name: str, render, *args, frame: pd.DataFrame, **kwargs) -> None:
    """Draw ``render(*args, frame, **kwargs)``, or replay what it drew the last time for the same data
    version, ``name``, ``args`` and rows of ``frame`` (Streamlit replays the elements a cached function
    drew, without running it). A national map or chart then costs a millisecond instead of building a
    Plotly figure of 3,321 points on every rerun.

    ``render`` draws elements only (no widget: they cannot be replayed); ``frame`` holds rows of a
    table that the data version and ``args`` determine (its unit codes key it), and ``kwargs`` what
    follows from them too (the period's framework), so neither is hashed."""
    codes = frame["unit_code"].to_numpy(dtype=object)   # iterating an Arrow column itself: 2 ms for 3,321
    rows = hashlib.blake2b("\x1f".join(map(str, codes)).encode(), digest_size=16).hexdigest()
    data.cached(_replay, name, args, rows, (render, frame, kwargs))


@st.cache_data(show_spinner=False, max_entries=128)
def _replay(path: str, v: int, name: str, args: tuple, rows: str, _job, _con) -> None:
    render, frame, kwargs = _job
    render(*args, frame, **kwargs)


def guarded(fn):
    """Run a page body or a fragment; an unexpected error becomes a Vietnamese message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        data.fresh_versions()   # a fragment's rerun reads the data version again (another process wrote?)
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


def table(data, *, max_height: int | None = None, neutralised: bool = False, **kwargs):
    """``st.dataframe`` the way every table of the dashboard is shown: full width, no index column,
    formulas neutralised (``safe_frame``), and a missing value as "—" (``MISSING``; Streamlit's own
    default is the English "None"). ``max_height``: as tall as its rows up to that many pixels (the
    grid scrolls beyond it). ``neutralised=True``: ``data`` comes from a frame that went through
    ``safe_frame`` already (the cached ranking view, handed over as an Arrow table), not scanned
    again on every rerun."""
    if not neutralised:
        data = safe_frame(data)
    if max_height is not None:
        rows = len(getattr(data, "data", data))   # a pandas Styler holds its frame in .data
        kwargs["height"] = min(max_height, table_height(rows))
    return st.dataframe(data, hide_index=True, width="stretch", placeholder=MISSING, **kwargs)


def demo_badge() -> None:
    if data.is_demo():
        st.badge(DEMO_BADGE, icon=":material/science:", color="orange")
        st.caption("Số liệu tổng hợp ngẫu nhiên để trình diễn — không phải kết quả thật của đơn vị nào.")


def header(title: str, subtitle: str | None = None) -> None:
    ensure_app()
    st.title(title)
    if subtitle:
        st.caption(subtitle)
    demo_badge()


def page_period(title: str, subtitle: str, key: str, *, only_with_data: bool = True, needs_results: bool = False,
                empty: str = "") -> str | None:
    """A period page's opening: title, the period select, the period's cycle notice, or the "no data"
    box (no period at all, or ``needs_results`` and nothing scored in it) and None."""
    header(title, subtitle)
    period = period_select(key, only_with_data=only_with_data)
    if period:
        cycle_notice(period)
    if period is None or (needs_results and data.period_table(period).empty):
        no_data(empty)
        return None
    return period


def no_data(what: str = "") -> None:
    msg = f"**{NO_DATA}** {what}".strip()
    st.info(msg + "\n\nCán bộ nhập liệu tải bảng điểm lên ở trang **Nhập dữ liệu** (hoặc dùng lệnh "
            "`danvan import`); kết quả sẽ hiện ở đây ngay sau khi nhập.", icon=":material/inbox:")


def period_select(key: str, *, container=None, only_with_data: bool = True, default: str | None = None) -> str | None:
    """The period selectbox (label "Kỳ đánh giá"); the choice is shared between pages."""
    options = data.periods_with_data() if only_with_data else data.periods()
    if not options:
        options = data.periods()
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


def tier_words(res: pd.DataFrame) -> pd.Series:
    """The tier of a ranked unit; "Chưa đủ dữ liệu" (data still missing, not a sanction) or "Không
    đủ điều kiện xếp loại" (a condition the framework names) for the others."""
    status = res["status"] if "status" in res.columns else pd.Series("incomplete", index=res.index)
    unranked = status.map({"not_eligible": NOT_ELIGIBLE_LABEL}).fillna(INCOMPLETE_LABEL)
    return res["tier"].where(res["eligible"].astype(bool), unranked)


def results_view(res: pd.DataFrame, fw: Framework, period: str, *, compact: bool = False) -> tuple[pd.DataFrame, dict]:
    """The results table with Vietnamese headers and its column configuration."""
    groups = [g.code for g in fw.scored_groups]
    provinces = data.province_names()
    out = pd.DataFrame({"Hạng chung": res["rank"]})
    if "province_rank" in res.columns:
        out["Hạng trong tỉnh"] = res["province_rank"]
    intervals = "rank_p05" in res.columns
    if intervals:
        out[RANGE_LABEL] = interval_texts(res)
        out[STABLE_LABEL] = stable_marks(res)
    out = out.assign(**{
        "Hạng trong khối": res["block_rank"],
        "Mã": res["unit_code"],
        "Đơn vị": res["unit_name"],
        "Tỉnh": res["province_code"].map(provinces).fillna(res["province_name"]),
        "Khối thi đua": res["block_name"],
        "Tổng điểm": res["total"].round(2),
        "Xếp loại": tier_words(res),
    })
    if "tier_self" in res.columns:
        out["Xếp loại tự chấm"] = res["tier_self"]
    if not compact:
        for g in groups:
            out[f"Nhóm {g}"] = res[f"group_{g}"].round(2)
    out["± điểm"] = res["delta_total"] if "delta_total" in res.columns else pd.NA
    out["± hạng"] = res["delta_rank"] if "delta_rank" in res.columns else pd.NA
    if any(estimated_marks(res)):  # a change across the merger is never shown without its mark
        out[PREV_MARK_COLUMN] = estimated_marks(res)
    if not compact:
        out["Tự chấm − thẩm định"] = res["gap"]
        out["Đủ điều kiện"] = res["eligible"].astype(bool)
        notes = [c for c in ("missing", "missing_evidence", "vetoes", "tier_reason", "not_applicable")
                 if c in res.columns]
        out["Ghi chú"] = [reasons(r) for r in res[notes].to_dict("records")]
        out["Loại đơn vị"] = res["unit_type"].map(unit_store.UNIT_TYPES).fillna(res["unit_type"])
    out["Hồ sơ"] = [profile_link(u, period) for u in res["unit_code"]]
    # repeated labels travel once (Arrow dictionary) instead of once a row: the national table
    # is sent to the browser on every rerun
    for col in (STABLE_LABEL, "Tỉnh", "Khối thi đua", "Xếp loại", "Xếp loại tự chấm", "Ghi chú", "Loại đơn vị",
                PREV_MARK_COLUMN):
        if col in out.columns:
            out[col] = out[col].astype("category")
    gmax = insights.group_max(fw, data.official(period))
    config = {
        "Hạng chung": st.column_config.NumberColumn(
            help="Hạng chung trong toàn bộ các đơn vị đã xếp hạng (đồng hạng khi tổng điểm bằng nhau)", format="%d",
            width="small"),
        "Hạng trong tỉnh": st.column_config.NumberColumn(
            help="Hạng trong tỉnh của đơn vị (cùng quy tắc đồng hạng)", format="%d", width="small"),
        "Xếp loại tự chấm": st.column_config.TextColumn(
            help="Xếp loại mà điểm tự chấm của đơn vị sẽ đạt, để so với xếp loại sau thẩm định"),
        "Hạng trong khối": st.column_config.NumberColumn(help="Hạng trong khối, cụm thi đua", format="%d",
                                                         width="small"),
        "Mã": st.column_config.TextColumn(width="small"),
        RANGE_LABEL: st.column_config.TextColumn(
            width="small", help="Khi trọng số thay đổi một chút, hạng của đơn vị thường nằm trong khoảng này (từ hạng "
                                "tốt nhất đến hạng kém nhất). " + sensitivity.interval_statistic(*data.unc_settings())),
        STABLE_LABEL: st.column_config.TextColumn(
            width="small", help="Ổn định: hạng chỉ lệch vài bậc quanh hạng hiện tại; Dễ thay đổi: chỉ cần đổi trọng "
                                "số một chút, hạng đã khác nhiều. " + sensitivity.stable_statistic()),
        "Tổng điểm": st.column_config.ProgressColumn(format="%.2f", min_value=0, max_value=100,
                                                     help="Tổng điểm thẩm định (thang 100)"),
        "± điểm": st.column_config.NumberColumn(format="%+.2f", help="Thay đổi tổng điểm so với kỳ trước"),
        "± hạng": st.column_config.NumberColumn(format="%+d", help="Số bậc tăng (+) hoặc giảm (−) so với kỳ trước"),
        "Tự chấm − thẩm định": st.column_config.NumberColumn(
            format="%+.2f", help="Điểm tự chấm trừ điểm thẩm định: dương là đơn vị tự chấm cao hơn"),
        PREV_MARK_COLUMN: st.column_config.TextColumn(help=ESTIMATED_HELP),
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
               unit_type: bool = False, fw: Framework | None = None,
               choices: data.FilterChoices | None = None) -> pd.DataFrame:
    """Province / block (/ tier / type / search) filters above a table; returns the rows kept.
    ``choices``: ``data.filter_choices(res)`` when the caller has it built once (``period_choices``,
    ``ranking_choices``)."""
    choices = choices or data.filter_choices(res)
    # today's short names; an old province (a period before the merger) by the name stored with its units
    provinces = {**choices.province_names, **data.province_names()}
    cols = st.columns([1.2, 1.6, 1.0, 1.0] if (tier or unit_type) else [1, 1])
    chosen_prov = filter_multiselect(cols[0], "Tỉnh, thành phố", choices.provinces, key=f"{key}_prov",
                                     format_func=lambda c: provinces.get(c, c))
    blocks = data.filter_blocks(res[res["province_code"].isin(chosen_prov)]) if chosen_prov else choices.blocks
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
        type_opts = [t for t in unit_store.UNIT_TYPES if t in choices.unit_types]
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


@st.cache_data(show_spinner=False, max_entries=16)
def _ranking_view(path: str, v: int, period: str, source: str, profile_json: str, draws: int, spread: float,
                  _con) -> tuple[pd.DataFrame, dict]:
    table = data._ranking_table(path, v, period, source, profile_json, draws, spread, _con)
    view, config = results_view(table, data.framework(period), period)
    return safe_frame(view), config


@st.cache_resource(show_spinner=False, max_entries=8)
def _ranking_view_shared(path: str, v: int, period: str, source: str, profile_json: str, draws: int,
                         spread: float, _con) -> tuple[pd.DataFrame, dict, pa.Table]:
    """``_ranking_view`` kept once per process (pages/data.py, "Shared frames"), with the same view as
    an Arrow table: what st.dataframe sends to the browser. Never handed out."""
    view, config = _ranking_view(path, v, period, source, profile_json, draws, spread, _con)
    return view, config, pa.Table.from_pandas(view, preserve_index=False)


def ranking_view(period: str, source: str, profile: WeightProfile,
                 rows: pd.Index) -> tuple[pd.DataFrame, dict, pa.Table]:
    """results_view of ``ranking_table(period, source, profile)`` for ``rows`` (an index of that
    table), formulas already neutralised (``table(…, neutralised=True)``): the view of the whole table
    (a shallow copy; ``.loc[rows]`` for the rows shown), its column configuration, and the shown rows
    as an Arrow table for ``table``.

    The view is built, made safe and converted to Arrow once per period, profile and data version:
    a filter then takes rows of an Arrow table, instead of rebuilding, scanning and converting
    3,321 formatted rows on every rerun (pandas → Arrow was a third of the ranking page's CPU under
    60 sessions, issue 14)."""
    view, config, arrow = data.cached(_ranking_view_shared, period, source, profile.model_dump_json(),
                                      *data.unc_settings())
    if len(rows) != len(view) or not rows.equals(view.index):
        arrow = arrow.take(pa.array(view.index.get_indexer(rows), type=pa.int64()))
    return view.copy(deep=False), copy.deepcopy(config), arrow


def unc_note() -> str:
    draws, spread = data.unc_settings()
    return sensitivity.interval_note(draws, spread).replace(f"{draws} lần", f"{vn_int(draws)} lần")


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages/ scan: show the app instead
    ensure_app()


# --------------------------------------------------------------------------- the period's cycle
def cycle_notice(period: str) -> None:
    """The period's state when it is inside the cycle, every time it was moved back (with the
    reason) and every change of the official profile after the weights were fixed: shown on every
    results page of that period."""
    st_, reopenings, official_changes = data.cycle(period)
    if st_.state == "open":
        return
    st.caption(f":material/event: {md(st_.describe())}.")
    for r in reopenings.itertuples():
        st.warning(f"Kỳ đã được mở lại về giai đoạn '{lifecycle.STATE_LABELS[r.to_state]}' ngày "
                   f"{r.changed_at:%d/%m/%Y} ({md(r.changed_by)}): {md(r.reason)}", icon=":material/undo:")
    for r in official_changes.itertuples():
        st.warning(f"Bộ trọng số chính thức được đổi sau khi đã cố định, ngày {r.changed_at:%d/%m/%Y} "
                   f"({md(r.changed_by)}): {md(r.reason)}", icon=":material/balance:")
