"""Báo cáo: leaders download the period's tổng kết / sơ kết report (DOCX, PDF or XLSX) — the same
file ``danvan report`` writes; staff, the council and admins also download a unit's appraisal
minutes (``danvan minutes``). Library calls only (``paperwork``, ``documents``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from danvan_scoring import documents, paperwork
from pages import common

MAKE_REPORT = "Tạo báo cáo"
MAKE_MINUTES = "Tạo biên bản"
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@st.cache_data(show_spinner="Đang tổng hợp số liệu báo cáo…", max_entries=16)
def _report_data(path: str, v: int, period: str, _con) -> dict[str, pd.DataFrame]:
    return paperwork.report_data(_con, period)


def report_bytes(con, period: str, kind: str, fmt: str, data: dict) -> bytes:
    if fmt == "xlsx":
        with tempfile.TemporaryDirectory(prefix="danvan-bc-") as tmp:
            return paperwork.report_xlsx(data, Path(tmp) / "bc.xlsx").read_bytes()
    return documents.to_bytes(paperwork.report_document(con, period, kind, data=data), fmt)


def report_section(con, period: str) -> None:
    data = common.cached(_report_data, period)
    meta = data["_meta"].iloc[0]
    st.markdown(f"Kỳ **{common.period_label(period)}**: {common.vn_int(meta['units'])} đơn vị được chấm điểm, "
                f"{common.vn_int(meta['ranked'])} đơn vị đã xếp hạng, {common.vn_int(meta['models'])} mô hình.")
    bt = data["by_tier"]
    common.table(pd.DataFrame({"Mức xếp loại": bt["tier"], "Số đơn vị": bt["units"],
                               "Tỷ lệ (%)": common.vn_cells(bt["share"], 1)}), key="bc_tiers")
    cols = st.columns([1, 1, 2])
    kind = cols[0].selectbox("Loại báo cáo", list(paperwork.KINDS), format_func=paperwork.KINDS.get, key="bc_kind")
    fmt = cols[1].selectbox("Định dạng", ["docx", "pdf", "xlsx"], format_func=str.upper, key="bc_fmt")
    if cols[2].button(MAKE_REPORT, icon=":material/summarize:", key="bc_make"):
        with st.spinner("Đang tạo báo cáo…"):
            st.session_state["bc_doc"] = (period, kind, fmt, report_bytes(con, period, kind, fmt, data))
    stored = st.session_state.get("bc_doc")
    if stored and stored[0] == period:
        _, k, f, blob = stored
        st.download_button(f"Tải báo cáo {paperwork.KINDS[k].lower()} ({f.upper()})", blob,
                           file_name=f"bao-cao-{k}-{period}.{f}", mime=MIME[f], icon=":material/download:",
                           key="bc_download")


def minutes_section(con, period: str) -> None:
    res = common.base_table(period)
    labels = dict(zip(res["unit_code"], res["unit_name"] + " (" + res["unit_code"] + ")"))
    cols = st.columns([2, 1, 1])
    unit = cols[0].selectbox("Đơn vị", list(labels), format_func=labels.get, key="bb_unit")
    fmt = cols[1].selectbox("Định dạng", ["docx", "pdf"], format_func=str.upper, key="bb_fmt")
    if cols[2].button(MAKE_MINUTES, icon=":material/assignment:", key="bb_make") and unit:
        with st.spinner("Đang tạo biên bản…"):
            src = paperwork.MinutesSource(con, period)
            st.session_state["bb_doc"] = (period, unit, fmt, documents.to_bytes(paperwork.minutes_document(src, unit), fmt))
    stored = st.session_state.get("bb_doc")
    if stored and stored[0] == period:
        _, u, f, blob = stored
        st.download_button(f"Tải biên bản thẩm định {labels.get(u, u)} ({f.upper()})", blob,
                           file_name=f"bien-ban-{period}-{u}.{f}", mime=MIME[f], icon=":material/download:",
                           key="bb_download")
    st.caption("Biên bản của mọi đơn vị một lúc: `danvan minutes --period KỲ --all -o THƯ_MỤC` (từng đơn vị một).")


def main() -> None:
    common.header("Báo cáo", "Báo cáo tổng kết, sơ kết và biên bản thẩm định — cùng số liệu với các trang kết quả")
    con, actor = common.db(), common.actor()
    period = common.period_select("bc_period")
    if period is None or common.base_table(period).empty:
        common.no_data()
        return
    st.subheader("Báo cáo tổng kết / sơ kết")
    common.guarded(report_section)(con, period)
    if actor is not None and (actor.can("import") or actor.can("awards")):
        st.subheader("Biên bản thẩm định")
        common.guarded(minutes_section)(con, period)


if __name__ == "__main__":
    common.guarded(main)()
