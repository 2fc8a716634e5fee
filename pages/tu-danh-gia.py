"""Hồ sơ tự đánh giá: a unit's officer self-scores each criterion, attaches evidence, sees what is
missing and the deadline, submits; later sees the appraisal and its reasons and files objections.

Library calls only (``dossier``, ``evidence``, ``lifecycle``, ``appraisal``, ``objections``); every
control the period's state refuses is disabled with the library's own reason.
"""

from __future__ import annotations

import math

import streamlit as st

from danvan_scoring import appraisal, dossier, evidence, lifecycle, objections
from danvan_scoring.criteria import Kind
from danvan_scoring.errors import StoreError
from pages import common

SAVE = "Lưu điểm tự chấm và minh chứng"
SUBMIT = "Nộp hồ sơ"
OBJECT = "Gửi kiến nghị"
UPLOAD_TYPES = ["pdf", "jpg", "jpeg", "png", "docx", "xlsx", "odt", "ods"]


def _unit(con, me) -> str | None:
    if me.role == "unit":
        return me.unit_code
    names = common.unit_labels(common.base_table(common.periods()[-1])) if common.periods() else {}
    code = st.text_input("Mã đơn vị (5 chữ số)", key="dos_unit", help="Cán bộ nhập liệu, quản trị: nhập hộ "
                         "hồ sơ của một đơn vị").strip()
    if code and code in names:
        st.caption(common.md(names[code]))
    return code or None


def _value_input(c, row, disabled: bool, why: str | None):
    key = f"dos_v_{c.code}"
    current = row["self_value"]
    na = bool(row["not_applicable"])
    if c.allow_na and st.checkbox("Không phát sinh", value=na, key=f"{key}_na", disabled=disabled, help=why):
        return None
    if c.kind is Kind.pass_fail:
        options = ["—", "Đạt", "Không đạt"]
        idx = 0 if current is None or na else (1 if current == 1 else 2)
        got = st.radio("Kết quả", options, index=idx, key=key, horizontal=True, disabled=disabled, help=why)
        return {"Đạt": 1.0, "Không đạt": 0.0}.get(got, "skip")
    top = c.value_max
    value = None if current is None or na or (isinstance(current, float) and math.isnan(current)) else float(current)
    got = st.number_input(c.value_hint(), min_value=0.0, max_value=top, value=value, step=0.25 if top else 1.0,
                          key=key, disabled=disabled, help=why)
    return "skip" if got is None else float(got)


def dossier_form(con, me, period: str, unit: str) -> None:
    fw = common.framework(period)
    frame = dossier.dossier(con, period, unit, actor=me)
    why = lifecycle.refusal(con, period, "self", [unit], actor=me)
    rows = frame.set_index("criterion_code")
    files = evidence.list_files(con, period, unit, actor=me)
    missing = dossier.missing_items(frame)
    if missing:
        with st.expander(f"Còn thiếu {len(missing)} mục", icon=":material/checklist:", expanded=not why):
            st.markdown("\n".join(f"- {common.md(m)}" for m in missing))
    else:
        st.success("Hồ sơ đã đủ các mục bắt buộc.", icon=":material/task_alt:")
    if why:
        st.info(why, icon=":material/lock:")
    with st.form("dos_form"):
        values, uploads = {}, {}
        for g in fw.groups:
            st.subheader(f"{g.code}. {g.name}")
            for c in g.criteria:
                r = rows.loc[c.code]
                st.markdown(f"**{c.code}. {common.md(c.name)}**")
                st.caption(common.md(r["rule"]))
                if c.appraiser_only or c.derived:
                    st.caption("Không tự chấm: " + ("cấp trên chấm khi thẩm định." if c.appraiser_only else
                                                    "tính từ danh sách mô hình."))
                    continue
                got = _value_input(c, r, bool(why), why)
                if got != "skip":
                    values[c.code] = got
                mine = files[files["criterion_code"] == c.code]
                if len(mine):
                    st.caption("Minh chứng: " + ", ".join(common.md(n) for n in mine["file_name"]))
                if r["evidence_note"]:
                    st.caption(f"Ghi chú văn bản (không thay tệp minh chứng): {common.md(r['evidence_note'])}")
                uploads[c.code] = st.file_uploader(f"Tệp minh chứng cho {c.code}", type=UPLOAD_TYPES,
                                                   accept_multiple_files=True, key=f"dos_f_{c.code}",
                                                   disabled=bool(why), help=why)
        saved = st.form_submit_button(SAVE, icon=":material/save:", disabled=bool(why), help=why)
    if saved:
        try:
            if values:
                dossier.set_self_scores(con, period, unit, values, actor=me)
            n = 0
            for code, ups in uploads.items():
                for up in ups or []:
                    evidence.add(con, up.getvalue(), file_name=up.name, unit=unit, period=period, criterion=code,
                                 actor=me)
                    n += 1
        except StoreError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.toast(f"Đã lưu {len(values)} điểm tự chấm, {n} tệp minh chứng.", icon=":material/check:")
            st.rerun()
    if len(files):
        with st.expander(f"Tệp minh chứng đã đính kèm ({len(files)})", icon=":material/attach_file:"):
            for r in files.itertuples():
                _, data = evidence.get(con, r.evidence_id, actor=me)
                st.download_button(f"{r.criterion_code} · {r.file_name}", data, file_name=r.file_name,
                                   mime="application/octet-stream", key=f"dos_dl_{r.evidence_id}",
                                   icon=":material/download:")


def submit_section(con, me, period: str, unit: str) -> None:
    filed = lifecycle.submission(con, period, unit)
    if filed:
        st.success(f"Đã nộp hồ sơ ngày {filed[1]:%d/%m/%Y %H:%M} ({common.md(filed[0])}).",
                   icon=":material/verified:")
        return
    why = lifecycle.refusal(con, period, "submit", [unit], actor=me)
    if st.button(SUBMIT, icon=":material/send:", type="primary", disabled=bool(why), help=why, key="dos_submit"):
        try:
            lifecycle.submit(con, period, unit, actor=me)
        except StoreError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.rerun()
    st.caption("Sau khi nộp, điểm tự chấm và minh chứng của đơn vị được khóa.")


def appraisal_section(con, me, period: str, unit: str) -> None:
    rev = appraisal.reviews(con, period, unit, actor=me)
    if rev.empty:
        return
    st.subheader("Kết quả thẩm định")
    changed = rev[rev["changed"]]
    st.caption(f"{len(rev)} tiêu chí đã thẩm định, {len(changed)} tiêu chí thay đổi so với điểm tự chấm.")
    for r in changed.itertuples():
        what = (f"{common.vn(r.self_value)} → {common.vn(r.value)}" if r.decision == "value"
                else r.decision_label.lower())
        st.markdown(f"- **{r.criterion_code}**: {what}. Lý do: {common.md(r.reason or '')}")
    common.table(rev.rename(columns={"criterion_code": "Tiêu chí", "decision_label": "Kết luận",
                                     "self_value": "Điểm tự chấm", "value": "Điểm thẩm định", "reason": "Lý do"})
                 [["Tiêu chí", "Kết luận", "Điểm tự chấm", "Điểm thẩm định", "Lý do"]], key="dos_reviews")


def objection_section(con, me, period: str, unit: str) -> None:
    st_ = lifecycle.state(con, period)
    mine = objections.list_objections(con, period, unit, actor=me)
    if st_.state != "objections" and mine.empty:
        return
    st.subheader("Kiến nghị")
    why = lifecycle.refusal(con, period, "objection", [unit], actor=me)
    fw = common.framework(period)
    with st.form("dos_obj"):
        crit = st.selectbox("Về tiêu chí", ["(toàn bộ kết quả)", *fw.criteria], key="dos_obj_crit",
                            disabled=bool(why))
        text = st.text_area("Nội dung kiến nghị", key="dos_obj_text", disabled=bool(why), help=why)
        sent = st.form_submit_button(OBJECT, icon=":material/campaign:", disabled=bool(why), help=why)
    if sent:
        try:
            objections.add(con, period, unit, text, actor=me, criterion=None if crit.startswith("(") else crit)
        except StoreError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.rerun()
    if len(mine):
        common.table(mine.assign(status=mine["status"].map(objections.STATUS_LABELS))
                     .rename(columns={"objection_id": "Số", "criterion_code": "Tiêu chí", "status": "Tình trạng",
                                      "text": "Nội dung", "resolution": "Trả lời"})
                     [["Số", "Tiêu chí", "Tình trạng", "Nội dung", "Trả lời"]], key="dos_obj_list")


def main() -> None:
    common.header("Hồ sơ tự đánh giá", "Tự chấm từng tiêu chí, đính kèm minh chứng, nộp hồ sơ đúng hạn")
    con = common.db()
    me = common.actor()
    period = common.period_select("dos_period", only_with_data=False)
    if not period:
        common.no_data()
        return
    unit = _unit(con, me)
    if not unit:
        st.info("Nhập mã đơn vị để mở hồ sơ.", icon=":material/info:")
        return
    st_ = lifecycle.state(con, period)
    left = st_.days_left()
    deadline = ("" if left is None else f" — hạn {st_.deadline:%d/%m/%Y}, " +
                (f"còn {left} ngày" if left >= 0 else f"đã quá hạn {-left} ngày"))
    st.markdown(f"Đơn vị **{common.md(unit)}** · kỳ **{common.period_label(period)}** · giai đoạn "
                f"**{st_.label}**{deadline}")
    common.cycle_notice(period)
    try:
        dossier_form(con, me, period, unit)
    except StoreError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    submit_section(con, me, period, unit)
    appraisal_section(con, me, period, unit)
    objection_section(con, me, period, unit)


main()
