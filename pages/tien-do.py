"""Tiến độ nộp hồ sơ: leaders and the council see who submitted, who is still working, who has not
started and who is late, by province and by block, and one unit's dossier read-only.

Library calls only (``dossier.progress``, ``dossier.progress_summary``, ``dossier.dossier``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from danvan_scoring import dossier, lifecycle
from danvan_scoring.errors import StoreError
from pages import common

SUMMARY_COLUMNS = {"submitted": "Đã nộp", "in_progress": "Đang làm", "not_started": "Chưa bắt đầu",
                   "late": "Quá hạn", "units": "Số đơn vị", "share_submitted": "Tỷ lệ đã nộp (%)"}


@st.cache_data(show_spinner=False, max_entries=16)
def _progress(path: str, v: int, period: str, _con) -> pd.DataFrame:
    return dossier.progress(_con, period)


def progress_view(con, period: str) -> None:
    prog = common.cached(_progress, period, writes=True)
    counts = prog["status"].value_counts()
    cols = st.columns(4)
    for col, (k, label) in zip(cols, dossier.PROGRESS_STATUS.items()):
        col.metric(label, common.vn_int(int(counts.get(k, 0))))
    cols[3].metric("Quá hạn", common.vn_int(int(prog["late"].sum())))
    by_tab, block_tab, late_tab = st.tabs(["Theo tỉnh", "Theo khối thi đua", "Đơn vị quá hạn"])
    with by_tab:
        s = dossier.progress_summary(prog, "province").rename(columns={"province": "Tỉnh", **SUMMARY_COLUMNS})
        common.table(s.drop(columns=["province_code"]), key="td_prov", max_height=420)
    with block_tab:
        s = dossier.progress_summary(prog, "block").rename(columns={"block_name": "Khối", **SUMMARY_COLUMNS})
        common.table(s.drop(columns=["block_code"]), key="td_block", max_height=420)
    with late_tab:
        late = prog[prog["late"]][["unit_code", "unit_name", "province", "block_name", "status_label"]]
        common.table(late.rename(columns={"unit_code": "Mã", "unit_name": "Đơn vị", "province": "Tỉnh",
                                          "block_name": "Khối", "status_label": "Tình trạng"}),
                     key="td_late", max_height=420)


def unit_dossier(con, period: str) -> None:
    code = st.text_input("Xem hồ sơ một đơn vị (mã 5 chữ số)", key="td_unit").strip()
    if not code:
        return
    try:
        frame = dossier.dossier(con, period, code, actor=common.actor())
    except StoreError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    common.table(frame.rename(columns={"criterion_code": "Tiêu chí", "name": "Tên", "self_value": "Tự chấm",
                                       "appraised_value": "Thẩm định", "files": "Số tệp", "missing": "Còn thiếu"})
                 [["Tiêu chí", "Tên", "Tự chấm", "Thẩm định", "Số tệp", "Còn thiếu"]], key="td_dossier")


def period_control(con, period: str) -> None:
    """The chair (or an admin) moves the period one step on, or back with a reason: the same
    ``lifecycle.advance``/``reopen`` as the CLI, which check the permission and the state."""
    me = common.actor()
    if not me.can("lifecycle"):
        return
    st_now = lifecycle.state(con, period)
    with st.expander("Chuyển giai đoạn kỳ đánh giá (Chủ tịch Hội đồng, quản trị)", icon=":material/event_repeat:"):
        nxt = lifecycle.STATES[lifecycle.STATES.index(st_now.state) + 1] if st_now.state != "locked" else None
        with st.form("td_advance", clear_on_submit=True):
            label = f"Chuyển sang '{lifecycle.STATE_LABELS[nxt]}'" if nxt else "Kỳ đã khóa"
            deadline = st.date_input("Hạn của giai đoạn mới (không bắt buộc)", value=None, format="DD/MM/YYYY",
                                     disabled=nxt is None)
            if st.form_submit_button(label, icon=":material/arrow_forward:", disabled=nxt is None):
                _move(lambda: lifecycle.advance(con, period, actor=me, deadline=deadline))
        with st.form("td_reopen", clear_on_submit=True):
            earlier = list(lifecycle.STATES[:lifecycle.STATES.index(st_now.state) + 1])
            to = st.selectbox("Mở lại về giai đoạn", earlier[::-1], format_func=lifecycle.STATE_LABELS.get)
            reason = st.text_input("Lý do mở lại (bắt buộc, ghi vào nhật ký và hiện trên các trang kết quả)")
            if st.form_submit_button("Mở lại kỳ", icon=":material/undo:"):
                _move(lambda: lifecycle.reopen(con, period, to, actor=me, reason=reason))


def _move(change) -> None:
    try:
        new = change()
    except StoreError as exc:           # refused: the library's Vietnamese reason, nothing written
        st.error(str(exc), icon=":material/error:")
    else:
        st.toast(f"Kỳ {new.period} chuyển sang giai đoạn '{new.label}'.", icon=":material/check:")
        st.rerun()


def main() -> None:
    period = common.page_period("Tiến độ nộp hồ sơ", "Đơn vị đã nộp, đang làm, chưa bắt đầu, quá hạn — theo tỉnh và "
                                "khối thi đua", "td_period", only_with_data=False)
    if not period:
        return
    con = common.db()
    now = lifecycle.state(con, period)
    if now.state == "open":            # inside the cycle the notice above says the state
        st.caption(common.md(now.describe()))
    period_control(con, period)
    progress_view(con, period)
    unit_dossier(con, period)


main()
