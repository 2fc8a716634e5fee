"""Nhập dữ liệu (staff, admin): template, upload, validation report, preview, confirm, history, undo.

Two kinds of file: scores ("Điểm") and model lists ("Danh sách mô hình"), one upload flow for
both (``FLOWS``: the library's ``Importer`` plus this page's keys and preview table). The page
calls ``ingest.import_file`` or ``model_upload.import_models_file`` — the same functions as
``danvan import`` (``--kind models``) — first as a dry run (validation and new/changed/unchanged
counts, nothing written), then for real after "Xác nhận nhập". Both kinds of batch are listed
and undoable.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import streamlit as st

from danvan_scoring import batches, export, ingest, model_upload, rubric, store, templates
from danvan_scoring import batches as batch_store
from danvan_scoring import units as unit_store
from danvan_scoring.uploads import MAX_BYTES, Importer, UploadRejected
from pages import common

CONFIRM = "Xác nhận nhập"
STATUS = {"new": "Mới", "changed": "Thay đổi", "unchanged": "Không đổi"}
STAGE_CHOICES = {None: "Theo tệp (cột stage: tự chấm hay thẩm định)", "appraised": "Điểm thẩm định", "self": "Điểm tự chấm"}
PREVIEW_ROWS = 5000
KINDS = {"scores": "Điểm", "models": "Danh sách mô hình"}


def template_downloads(stem: str, build, key: str) -> None:
    """CSV and XLSX buttons for a template; ``build(fmt)`` makes the bytes only when clicked."""
    a, b, _ = st.columns([1, 1, 3])
    a.download_button("Tải mẫu CSV", data=lambda: build("csv"), file_name=f"{stem}.csv", mime="text/csv",
                      on_click="ignore", icon=":material/download:", key=f"{key}_csv")
    b.download_button("Tải mẫu Excel (XLSX)", data=lambda: build("xlsx"), file_name=f"{stem}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      on_click="ignore", icon=":material/download:", key=f"{key}_xlsx")


def template_section(period: str) -> None:
    fw = common.framework(period)
    provinces = common.province_names()
    c1, c2 = st.columns([1, 1])
    layout = c1.radio("Bố cục mẫu", ["long", "wide"], horizontal=True, key="tpl_layout",
                      format_func=lambda x: {"long": "Dạng dài (mỗi dòng một tiêu chí)",
                                             "wide": "Dạng rộng (mỗi dòng một đơn vị)"}[x])
    prov = c2.selectbox("Phạm vi mẫu", [None, *provinces], key="tpl_prov",
                        format_func=lambda p: "Tất cả đơn vị" if p is None else provinces.get(p, p))

    def build(fmt: str) -> bytes:
        codes = unit_store.units(common.db(), prov)["unit_code"].tolist()
        frame = templates.template_frame(fw, codes, period, layout)
        buf = io.BytesIO()
        templates.write_template(frame, buf, fmt)
        return buf.getvalue()

    stem = f"mau-nhap-diem-{period}-{layout}" + (f"-{prov}" if prov else "")
    template_downloads(stem, build, "tpl")
    with st.expander("Hướng dẫn điền mẫu"):
        st.markdown(
            "- Mỗi dòng (dạng dài): mã đơn vị, kỳ, mã tiêu chí, điểm, loại điểm (`self` = điểm tự chấm, "
            "`appraised` = thẩm định; cũng nhận “tự chấm”, “thẩm định”), minh chứng, ghi chú.\n"
            "- Dạng rộng: mỗi tiêu chí một cột (A1, A2…).\n"
            "- Tệp có bất kỳ lỗi nào sẽ bị từ chối toàn bộ và không ghi gì; báo cáo lỗi chỉ rõ dòng, cột và lý do.\n"
            "- Nhập lại cùng một tệp không tạo thay đổi; mỗi lần nhập có thể hủy (hủy lần nhập).")
        kinds = pd.DataFrame([{"Mã": c.code, "Tiêu chí": c.name, "Giá trị nhập": c.value_hint(),
                               "Bắt buộc minh chứng": c.evidence_required} for c in fw.criteria.values()])
        common.table(kinds)


def _progress_bar():
    bar = st.progress(0.0, text="Đang chuẩn bị…")

    def tell(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return bar, tell


@dataclass(frozen=True)
class Flow:
    """One kind of upload on this page: the library's ``Importer`` and what the page shows for it
    (widget keys and labels the tests and SELECTORS.md name, the preview table)."""

    importer: Importer
    run: Callable  # ingest.import_file / model_upload.import_models_file (same signature)
    prefix: str  # session-state and widget key prefix
    uploader_key: str
    uploader_label: str
    metrics: tuple[str, str, str, str]  # valid rows, new, changed, unchanged
    preview_table: Callable[[dict, pd.DataFrame], None]
    done: str  # said after a successful import


def check_upload(data: bytes, name: str, period: str, stage: str | None, kind: str = "scores") -> dict:
    """Dry run, once per file × options × data version (kept in session state)."""
    flow = FLOWS[kind]
    key = (kind, hashlib.sha256(data).hexdigest(), name, period, stage, common.write_version())
    state = f"{flow.prefix}_check"
    cached = st.session_state.get(state)
    if cached and cached["key"] == key:
        return cached
    bar, tell = _progress_bar()
    try:
        res = flow.run(common.db(), data, name, actor=common.actor(), period=period, stage=stage,
                       dry_run=True, progress=tell)
        out = {"key": key, "ok": True, "result": res, "rows": res.parsed.rows}
    except UploadRejected as rej:
        out = {"key": key, "ok": False, "problems": rej.problems, "parsed": rej.parsed}
    finally:
        bar.empty()
    st.session_state[state] = out
    return out


def problems_report(check: dict) -> None:
    problems = check["problems"]
    parsed = check.get("parsed")
    count = parsed.problem_count if parsed is not None else len(problems)
    st.error(f"**Tệp bị từ chối: {common.vn_int(count)} lỗi.** Không có dữ liệu nào được ghi. Hãy sửa tệp theo "
             "báo cáo dưới đây rồi tải lên lại.", icon=":material/report:")
    report = pd.DataFrame([{"Dòng": p.row, "Cột": p.column, "Giá trị": p.value, "Lý do": p.reason} for p in problems])
    report["Dòng"] = report["Dòng"].astype("Int64")
    common.table(report, max_height=480,
                 key="up_problems", column_config={"Lý do": st.column_config.TextColumn(width="large")})
    if count > len(problems):
        st.caption(f"Chỉ liệt kê {common.vn_int(len(problems))} lỗi đầu tiên trong số {common.vn_int(count)}.")
    st.download_button("Tải báo cáo lỗi (CSV)", data=export.to_csv_bytes(report), file_name="bao-cao-loi.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="up_problems_csv")


def preview_report(check: dict, flow: Flow) -> bool:
    """Counts and the rows as read; returns True when there is something to import."""
    res = check["result"]
    c = st.columns(4)
    for col, label, value in zip(c, flow.metrics, (res.rows, res.new, res.changed, res.unchanged)):
        col.metric(label, common.vn_int(value), border=True)
    parsed = res.parsed
    notes = []
    if parsed.ignored_columns:
        notes.append("bỏ qua các cột: " + ", ".join(f"“{x}”" for x in parsed.ignored_columns))
    if parsed.blank_cells:
        notes.append(f"{common.vn_int(parsed.blank_cells)} ô điểm để trống được bỏ qua")
    if parsed.duplicate_rows:
        notes.append(f"{common.vn_int(parsed.duplicate_rows)} dòng lặp lại giống hệt được tính một lần")
    if notes:
        st.caption("Lưu ý: " + "; ".join(notes) + ".")
    if res.new + res.changed == 0:
        what = "giá trị" if flow.importer.kind == "scores" else flow.importer.noun
        st.info(f"Tệp hợp lệ nhưng không có {what} nào mới hoặc thay đổi — không có gì để nhập.",
                icon=":material/check_circle:")
        return False
    st.success("Tệp hợp lệ: không có lỗi nào. Kiểm tra phần xem trước rồi bấm **Xác nhận nhập**.",
               icon=":material/task_alt:")
    view = flow.preview_table(check, unit_store.unit_names(common.db()))
    config = ({"Điểm chất lượng": st.column_config.NumberColumn(format="%.1f")}
              if "Điểm chất lượng" in view.columns else None)
    common.table(view.head(PREVIEW_ROWS), height=360, key=f"{flow.prefix}_preview", column_config=config)
    if len(view) > PREVIEW_ROWS:
        st.caption(f"Hiển thị {common.vn_int(PREVIEW_ROWS)} dòng đầu trong {common.vn_int(len(view))}.")
    return True


def scores_table(check: dict, names) -> pd.DataFrame:
    res = check["result"]
    pv = batch_store.preview_batch(common.db(), check["rows"])
    show = st.segmented_control("Hiển thị", ["changed", "new", "unchanged"], default="changed" if res.changed else "new",
                                format_func=lambda s: STATUS[s], key="up_show")
    sub = pv[pv["status"] == show] if show else pv
    return pd.DataFrame({
        "Mã đơn vị": sub["unit_code"], "Đơn vị": sub["unit_code"].map(names), "Kỳ": sub["period"],
        "Tiêu chí": sub["criterion_code"], "Loại điểm": sub["stage"].map(store.STAGE_LABELS),
        "Giá trị cũ": sub["old_value"], "Giá trị mới": sub["value"], "Minh chứng": sub["evidence"],
        "Trạng thái": sub["status"].map(STATUS),
    })


def upload_section(period: str, kind: str = "scores") -> None:
    flow = FLOWS[kind]
    p = flow.prefix
    stage = None
    if flow.importer.uses_stage:
        stage = st.selectbox("Điểm tự chấm hay điểm thẩm định (khi tệp không ghi)", list(STAGE_CHOICES), key="up_stage",
                             format_func=STAGE_CHOICES.get)
    file = st.file_uploader(flow.uploader_label, type=["csv", "xlsx", "txt"], key=flow.uploader_key,
                            help=f"Tối đa {MAX_BYTES // (1024 * 1024)} MB. Kỳ mặc định: {period} "
                                 "(khi tệp không có cột kỳ).")
    if flash := st.session_state.pop(f"{p}_flash", None):
        st.success(flash, icon=":material/check_circle:")
    if file is None:
        return
    data = file.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    if st.session_state.get(f"{p}_imported") == (digest, file.name):
        st.caption(f"Tệp “{common.md(file.name)}” đã được nhập. Tải lên tệp khác để nhập tiếp.")
        return
    check = check_upload(data, file.name, period, stage, kind)
    if not check["ok"]:
        problems_report(check)
        return
    if not preview_report(check, flow):
        return
    if st.button(CONFIRM, type="primary", icon=":material/cloud_upload:", key=f"{p}_confirm"):
        bar, tell = _progress_bar()
        try:
            res = flow.run(common.db(), data, file.name, actor=common.actor(), period=period, stage=stage,
                           progress=tell)
        except UploadRejected as rej:  # the data changed between preview and confirm
            st.session_state.pop(f"{p}_check", None)
            st.error(f"Tệp bị từ chối khi nhập: {rej}", icon=":material/report:")
            return
        finally:
            bar.empty()
        st.session_state[f"{p}_imported"] = (digest, file.name)
        st.session_state.pop(f"{p}_check", None)
        st.session_state[f"{p}_flash"] = (res.summary().replace(" dòng —", f" {flow.importer.noun} —")
                                          + ". " + flow.done)
        st.rerun()


# --------------------------------------------------------------------------- model lists
def models_template_section(period: str) -> None:
    provinces = common.province_names()
    prov = st.selectbox("Phạm vi mẫu", [None, *provinces], key="tplm_prov",
                        format_func=lambda p: "Tất cả đơn vị" if p is None else provinces.get(p, p))

    def build(fmt: str) -> bytes:
        u = unit_store.units(common.db(), prov)
        frame = model_upload.template_frame(dict(zip(u["unit_code"], u["name"])), period)
        buf = io.BytesIO()
        model_upload.write_template(frame, buf, fmt)
        return buf.getvalue()

    stem = f"mau-danh-sach-mo-hinh-{period}" + (f"-{prov}" if prov else "")
    template_downloads(stem, build, "tplm")
    with st.expander("Hướng dẫn điền mẫu danh sách mô hình"):
        st.markdown(
            "- Mỗi dòng là một mô hình (tập thể) hoặc điển hình (cá nhân) của một đơn vị trong kỳ.\n"
            "- Để trống **Mã mô hình** khi đăng ký mới; ghi mã đã có để cập nhật trạng thái, cấp công nhận, "
            "điểm chất lượng.\n"
            "- Tệp có bất kỳ lỗi nào sẽ bị từ chối toàn bộ và không ghi gì; báo cáo lỗi chỉ rõ dòng, cột và lý do.\n"
            "- Điểm nhóm mô hình của đơn vị được tính lại ngay từ danh sách; mỗi lần nhập có thể hủy (hủy lần nhập).")
        common.table(pd.DataFrame(model_upload.TEMPLATE_HELP, columns=["Cột", "Cách điền"]), key="tplm_help")
        rb = rubric.default_rubric()
        st.markdown(f"**{rb.name}** (tổng {rb.total:g} điểm):")
        common.table(pd.DataFrame([{"Cột": it.header, "Tối đa": it.max_points, "Gợi ý": it.hint}
                                   for it in rb.items]), key="tplm_rubric")


def models_table(check: dict, names) -> pd.DataFrame:
    rows = check["rows"]
    fields = rubric.default_fields().labels
    return pd.DataFrame({
        "Mã mô hình": rows["model_id"], "Mã đơn vị": rows["unit_code"], "Đơn vị": rows["unit_code"].map(names),
        "Kỳ": rows["period"], "Tên mô hình": rows["name"], "Lĩnh vực": rows["field"].map(fields),
        "Loại": rows["kind"].map(rubric.KIND_LABELS), "Trạng thái": rows["status"].map(rubric.STATUS_LABELS),
        "Cấp công nhận": rows["level"].map(rubric.LEVEL_LABELS),
        "Điểm chất lượng": pd.to_numeric(rows["rubric_total"], errors="coerce"), "Minh chứng": rows["evidence"],
    })


FLOWS = {
    "scores": Flow(ingest.SCORES, ingest.import_file, "up", "upload_file", "Tệp bảng điểm (CSV hoặc XLSX)",
                   ("Dòng hợp lệ", "Giá trị mới", "Giá trị thay đổi", "Không đổi"), scores_table,
                   "Bảng xếp hạng đã được cập nhật."),
    "models": Flow(model_upload.MODELS, model_upload.import_models_file, "upm", "upload_models",
                   "Tệp danh sách mô hình (CSV hoặc XLSX)",
                   ("Mô hình hợp lệ", "Mô hình mới", "Mô hình thay đổi", "Không đổi"), models_table,
                   "Điểm nhóm mô hình và bảng xếp hạng đã được tính lại."),
}


def history_section() -> None:
    con = common.db()
    b = batches.batches(con)
    if b.empty:
        st.caption("Chưa có lần nhập nào.")
        return
    view = pd.DataFrame({
        "Lô": b["batch_id"], "Loại": b["kind"].map(KINDS).fillna(b["kind"]), "Người nhập": b["actor"],
        "Lúc nhập": b["created_at"], "Tệp": b["filename"],
        "Mới": b["rows_new"], "Thay đổi": b["rows_changed"], "Không đổi": b["rows_unchanged"],
        "Minh họa": b["synthetic"].astype(bool), "Đã hủy lúc": b["undone_at"], "Người hủy": b["undone_by"].fillna(""),
    })
    common.table(view, max_height=400, key="up_batches",
                 column_config={"Lúc nhập": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
                                "Đã hủy lúc": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")})
    live = b[b["undone_at"].isna() & b["kind"].isin(list(KINDS))]
    if live.empty:
        return
    labels = {r["batch_id"]: f"Lần nhập {r['batch_id']} — {KINDS.get(r['kind'], r['kind']).lower()}: "
                             f"{r['filename'] or 'không tên'} ({r['actor']}, {r['created_at']:%d/%m/%Y %H:%M})"
              for r in live.to_dict("records")}
    pick = st.selectbox("Lần nhập cần hủy", list(labels), format_func=labels.get, key="undo_pick")
    pending = st.session_state.get("undo_confirm")
    if pending != pick:
        if st.button("Hủy lần nhập này…", key="undo_ask", icon=":material/undo:"):
            st.session_state["undo_confirm"] = int(pick)
            st.rerun()
        return
    st.warning(f"Hủy **{common.md(labels[pick])}**? Các giá trị của lần nhập này thôi hiệu lực "
               "và giá trị trước đó được khôi phục. "
               "Việc hủy lần nhập được ghi vào nhật ký.", icon=":material/undo:")
    a, bcol, _ = st.columns([1, 1, 3])
    if a.button("Xác nhận hủy lần nhập", type="primary", key="undo_yes"):
        info = batches.undo_batch(con, int(pick), actor=common.actor())
        st.session_state.pop("undo_confirm", None)
        st.session_state.pop("up_imported", None)
        st.session_state.pop("upm_imported", None)
        st.session_state["undo_flash"] = (f"Đã hủy lần nhập số {info['batch_id']} ({common.vn_int(info['entries'])} "
                                          "giá trị); các giá trị trước đó đã được khôi phục.")
        st.rerun()
    if bcol.button("Hủy", key="undo_no"):
        st.session_state.pop("undo_confirm", None)
        st.rerun()


def main() -> None:
    common.header("Nhập dữ liệu", "Tải mẫu, tải bảng điểm lên, kiểm tra, xem trước rồi mới ghi; mỗi lần nhập có thể hủy")
    period = common.period_select("up_period", only_with_data=False)
    if period is None:
        common.no_data("— chưa có kỳ đánh giá nào; hãy thêm kỳ bằng lệnh `danvan period add 2025`.")
        return
    kind = st.radio("Loại dữ liệu", list(KINDS), format_func=KINDS.get, horizontal=True, key="up_kind",
                    help="Điểm: bảng điểm tự chấm, thẩm định. Danh sách mô hình: các mô hình, điển hình “Dân vận "
                         "khéo” của đơn vị (điểm nhóm mô hình được tính từ danh sách này)")
    if kind == "models":
        st.subheader("1. Tải mẫu danh sách mô hình")
        common.guarded(models_template_section)(period)
        st.subheader("2. Tải danh sách mô hình lên")
        common.guarded(upload_section)(period, "models")
    else:
        st.subheader("1. Tải mẫu bảng điểm")
        common.guarded(template_section)(period)
        st.subheader("2. Tải bảng điểm lên")
        common.guarded(upload_section)(period)
    st.subheader("3. Các lần nhập và hủy lần nhập")
    if flash := st.session_state.pop("undo_flash", None):
        st.success(flash, icon=":material/check_circle:")
    common.guarded(history_section)()


main()
