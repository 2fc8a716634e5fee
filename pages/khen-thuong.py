"""Khen thưởng (council, admin): the award proposals of a period under the catalogue's caps, the
units a cap cut (with the reason), the council's vote on each proposal, and the draft decision.

Library calls only (``votes``, ``award_catalogue``, ``paperwork``); the library re-checks the
``awards`` permission on every vote.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from danvan_scoring import documents, paperwork, votes
from danvan_scoring.award_catalogue import load_catalogue
from pages import common

RECORD = "Ghi kết quả biểu quyết"
DRAFT = "Dự thảo quyết định"
VERDICT = {True: "Thông qua", False: "Không thông qua"}


def _eligibility(a) -> str:
    e = a.eligibility
    parts = ["đã xếp hạng"]
    if e.award_eligible:
        parts.append("không vi phạm điều kiện loại trừ")
    if e.block_leader:
        parts.append("dẫn đầu khối")
    if e.min_tier:
        parts.append(f"xếp loại từ mức '{e.min_tier}'")
    if e.min_total is not None:
        parts.append(f"từ {common.vn(e.min_total)} điểm")
    if e.min_models_recognised is not None:
        parts.append(f"từ {e.min_models_recognised} mô hình được công nhận")
    return ", ".join(parts)


def catalogue_view(cat, props: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for a in cat.in_order():
        mine = props[props["award_code"] == a.code]
        rows.append({"Hình thức": a.name, "Cấp": a.level, "Điều kiện": _eligibility(a),
                     "Chỉ tiêu": "; ".join(c.label() for c in a.caps) or "không giới hạn",
                     "Ngưỡng thông qua": f"trên {a.vote_threshold:.0%} số phiếu",
                     "Đề nghị": int((mine["outcome"] == "proposed").sum()),
                     "Bị cắt do chỉ tiêu": int((mine["outcome"] == "cut").sum())})
    return pd.DataFrame(rows)


def proposals_view(p: pd.DataFrame) -> pd.DataFrame:
    verdict = p["passed"].map(VERDICT).where(p["voted"], "Chưa biểu quyết")
    return pd.DataFrame({
        "Mã": p["unit_code"], "Đơn vị": p["unit_name"], "Tỉnh": p["province_code"], "Khối": p["block"],
        "Hình thức": p["award_name"], "Hạng": p["rank"], "Hạng trong khối": p["block_rank"],
        "Tổng điểm": common.vn_cells(p["total"]), "Xếp loại": p["tier"], "Căn cứ": p["basis"],
        "Đồng ý": p["votes_for"].astype("Int64"), "Không đồng ý": p["votes_against"].astype("Int64"),
        "Không biểu quyết": p["votes_abstain"].astype("Int64"), "Kết quả": verdict})


def vote_form(con, actor, period: str, proposed: pd.DataFrame, props: pd.DataFrame) -> None:
    labels = {f"{r.unit_code}|{r.award_code}": f"{r.unit_name} ({r.unit_code}) — {r.award_name}"
              for r in proposed.itertuples()}
    with st.form("kt_vote", border=True):
        pick = st.selectbox("Đề nghị", list(labels), format_func=labels.get, key="kt_pick")
        cols = st.columns(3)
        n_for = cols[0].number_input("Số phiếu đồng ý", min_value=0, step=1, value=0, key="kt_for")
        n_against = cols[1].number_input("Số phiếu không đồng ý", min_value=0, step=1, value=0, key="kt_against")
        n_abstain = cols[2].number_input("Số phiếu không biểu quyết", min_value=0, step=1, value=0, key="kt_abstain")
        st.caption("Phiếu kín được ghi dưới dạng số phiếu, không ghi ai bầu thế nào.")
        submitted = st.form_submit_button(RECORD, type="primary")
    if submitted and pick:
        unit, award = pick.split("|", 1)
        v = votes.record_vote(con, period, unit, award, int(n_for), int(n_against), int(n_abstain), actor=actor,
                              proposals=props)
        st.session_state["kt_last"] = (f"Đã ghi biểu quyết: {labels[pick]} — {v['votes_for']} đồng ý, "
                                       f"{v['votes_against']} không đồng ý, {v['votes_abstain']} không biểu quyết: "
                                       f"**{VERDICT[v['passed']]}**.")
        st.rerun()


def draft_block(con, period: str) -> None:
    cols = st.columns([1, 2])
    fmt = cols[0].selectbox("Định dạng", ["docx", "pdf"], key="kt_fmt", format_func=str.upper)
    if cols[1].button(DRAFT, icon=":material/description:", key="kt_draft"):
        with st.spinner("Đang soạn dự thảo quyết định…"):
            doc = paperwork.decision_document(con, period)
            st.session_state["kt_doc"] = (period, fmt, documents.to_bytes(doc, fmt))
    stored = st.session_state.get("kt_doc")
    if stored and stored[0] == period:
        _, f, data = stored
        mime = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "pdf": "application/pdf"}[f]
        st.download_button(f"Tải dự thảo quyết định ({f.upper()})", data, file_name=f"du-thao-quyet-dinh-{period}.{f}",
                           mime=mime, icon=":material/download:", key="kt_download")


def main() -> None:
    period = common.page_period("Khen thưởng", "Đề nghị khen thưởng theo danh mục và chỉ tiêu, biểu quyết của Hội "
                                "đồng, dự thảo quyết định", "kt_period")
    if not period:
        return
    con, actor = common.db(), common.actor()
    res = common.base_table(period)
    if res.empty:
        common.no_data(f"cho kỳ {common.period_label(period)}.")
        return
    cat = load_catalogue()
    props = votes.period_proposals(con, period, catalogue=cat, res=res)
    st.subheader("Danh mục và chỉ tiêu")
    st.caption("Theo tệp data/awards/mac-dinh.yaml — tỉnh sửa tệp này theo quy chế thi đua, khen thưởng của mình. "
               "Chỉ tiêu xét theo thứ hạng; mỗi đơn vị nhận nhiều nhất một hình thức trong cùng nhóm.")
    common.table(catalogue_view(cat, props))
    proposed = props[props["outcome"] == "proposed"]
    shown = votes.with_votes(con, period, proposed)
    st.subheader(f"Đề nghị khen thưởng ({common.vn_int(len(proposed))})")
    if proposed.empty:
        st.info("Không có đơn vị nào đủ điều kiện theo danh mục.", icon=":material/info:")
    else:
        common.table(proposals_view(shown), max_height=480, key="kt_table")
    cut = props[props["outcome"] == "cut"]
    with st.expander(f"Đơn vị bị cắt do chỉ tiêu ({common.vn_int(len(cut))})"):
        common.table(pd.DataFrame({"Mã": cut["unit_code"], "Đơn vị": cut["unit_name"], "Khối": cut["block"],
                                   "Hình thức": cut["award_name"], "Hạng": cut["rank"],
                                   "Tổng điểm": common.vn_cells(cut["total"]), "Lý do": cut["reason"]}))
    st.subheader("Biểu quyết của Hội đồng")
    last = st.session_state.pop("kt_last", None)
    if last:
        st.success(last, icon=":material/how_to_vote:")
    if not proposed.empty:
        common.guarded(vote_form)(con, actor, period, proposed, props)
    st.subheader("Dự thảo quyết định")
    n_passed = int(shown["passed"].sum()) if not shown.empty else 0
    st.markdown(f"**{common.vn_int(n_passed)}** đề nghị đã được thông qua sẽ vào danh sách kèm theo quyết định.")
    if n_passed:
        common.guarded(draft_block)(con, period)


if __name__ == "__main__":
    common.guarded(main)()
