"""Thẩm định hồ sơ: the appraisal team walks through one unit's dossier criterion by criterion —
accept the self-score, set another value with a reason, or mark the evidence invalid with a reason.

Library calls only (``dossier``, ``appraisal``, ``evidence``, ``lifecycle``); the controls are
disabled with the library's reason when the period's state refuses an appraisal.
"""

from __future__ import annotations

import streamlit as st

from danvan_scoring import appraisal, dossier, evidence, lifecycle
from danvan_scoring.errors import StoreError
from pages import common

RECORD = "Ghi kết quả thẩm định"
HOW = {"accept": "Chấp nhận điểm tự chấm", "value": "Chấm điểm khác", "reject_evidence": "Minh chứng không hợp lệ"}


def review_unit(con, me, period: str, unit: str) -> None:
    frame = dossier.dossier(con, period, unit, actor=me)
    why = lifecycle.refusal(con, period, "appraised", [unit], actor=me)
    if why:
        st.info(why, icon=":material/lock:")
    filed = lifecycle.submission(con, period, unit)
    st.caption(f"Đơn vị {'đã nộp hồ sơ ngày ' + format(filed[1], '%d/%m/%Y') if filed else 'chưa nộp hồ sơ'}.")
    common.table(frame.rename(columns={"criterion_code": "Tiêu chí", "name": "Tên", "self_value": "Tự chấm",
                                       "appraised_value": "Thẩm định", "files": "Số tệp", "missing": "Còn thiếu"})
                 [["Tiêu chí", "Tên", "Tự chấm", "Thẩm định", "Số tệp", "Còn thiếu"]], key="tdg_frame",
                 max_height=360)
    codes = frame["criterion_code"].tolist()
    crit = st.selectbox("Tiêu chí", codes, key="tdg_crit",
                        format_func=lambda c: f"{c}. {frame.set_index('criterion_code').loc[c, 'name']}")
    files = evidence.list_files(con, period, unit)
    for r in files[files["criterion_code"] == crit].itertuples():
        _, data = evidence.get(con, r.evidence_id, actor=me)
        st.download_button(f"Tải minh chứng: {r.file_name}", data, file_name=r.file_name,
                           mime="application/octet-stream", key=f"tdg_dl_{r.evidence_id}", icon=":material/download:")
    with st.form("tdg_form"):
        how = st.radio("Kết luận", list(HOW), format_func=HOW.get, key="tdg_how", horizontal=True,
                       disabled=bool(why))
        value = st.number_input("Điểm thẩm định (khi chấm điểm khác)", min_value=0.0, value=None, key="tdg_value",
                                disabled=bool(why))
        reason = st.text_area("Lý do (bắt buộc khi chấm điểm khác hoặc loại minh chứng)", key="tdg_reason",
                              disabled=bool(why))
        go = st.form_submit_button(RECORD, icon=":material/fact_check:", disabled=bool(why), help=why)
    if go:
        try:
            appraisal.appraise(con, period, unit, crit, actor=me, accept=how == "accept",
                               value=value if how == "value" else None, reason=reason,
                               reject_evidence=how == "reject_evidence")
        except StoreError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.toast(f"Đã ghi thẩm định tiêu chí {crit}.", icon=":material/check:")
            st.rerun()
    rev = appraisal.reviews(con, period, unit)
    if len(rev):
        st.subheader("Đã thẩm định")
        common.table(rev.rename(columns={"criterion_code": "Tiêu chí", "decision_label": "Kết luận",
                                         "self_value": "Tự chấm", "value": "Thẩm định", "reason": "Lý do",
                                         "reviewer": "Người thẩm định"})
                     [["Tiêu chí", "Kết luận", "Tự chấm", "Thẩm định", "Lý do", "Người thẩm định"]], key="tdg_rev")
        st.download_button("Tải bảng thẩm định (XLSX)", appraisal.minutes_xlsx(con, period, unit),
                           file_name=f"bien-ban-tham-dinh-{unit}-{period}.xlsx", key="tdg_minutes",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           icon=":material/download:")


def main() -> None:
    period = common.page_period("Thẩm định hồ sơ", "Xem hồ sơ tự đánh giá của từng đơn vị và ghi kết luận từng "
                                "tiêu chí", "tdg_period", only_with_data=False)
    if not period:
        return
    con = common.db()
    unit = st.text_input("Mã đơn vị (5 chữ số)", key="tdg_unit").strip()
    if not unit:
        st.info("Nhập mã đơn vị để mở hồ sơ.", icon=":material/info:")
        return
    try:
        review_unit(con, common.actor(), period, unit)
    except StoreError as exc:
        st.error(str(exc), icon=":material/error:")


main()
