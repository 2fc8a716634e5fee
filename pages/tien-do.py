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


def main() -> None:
    common.header("Tiến độ nộp hồ sơ", "Đơn vị đã nộp, đang làm, chưa bắt đầu, quá hạn — theo tỉnh và khối thi đua")
    con = common.db()
    period = common.period_select("td_period", only_with_data=False)
    if not period:
        common.no_data()
        return
    st.caption(common.md(lifecycle.state(con, period).describe()))
    common.cycle_notice(period)
    progress_view(con, period)
    unit_dossier(con, period)


main()
