"""Mô hình: the "Dân vận khéo" model registry — counts by field and status (the Can Lộc
breakdown) for a unit, a block or a province; the list with filters and search; each model's
card (rubric, evidence, status history); the best models of the period; units with no model
in a field. Library calls only (``danvan_scoring.registry``, ``derived``, ``rubric``); no SQL here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from danvan_scoring import blocks, derived, periods, registry, rubric
from danvan_scoring import periods as period_store
from danvan_scoring import units as unit_store
from danvan_scoring.frames import isin
from danvan_scoring.text import fold
from pages import common

STATUS_COLORS = {
    "registered": "#b0bec5",
    "in_progress": "#64b5f6",
    "recognised": "#43a047",
    "replicated": "#1b5e20",
    "dropped": "#e57373",
}
ALL = "__all__"


# --------------------------------------------------------------------------- cached reads
@st.cache_data(show_spinner=False, max_entries=16)
def _list(path: str, v: int, period: str, _con) -> pd.DataFrame:
    return registry.list_models(_con, period)


@st.cache_data(show_spinner=False, max_entries=16)
def _summary(path: str, v: int, period: str, _con) -> pd.DataFrame:
    return derived.models_summary_by_unit(_con, period)


@st.cache_data(show_spinner=False, max_entries=8)
def _units(path: str, v: int, _con) -> pd.DataFrame:
    return unit_store.units(_con)


@st.cache_data(show_spinner=False, max_entries=16)
def _blocks(path: str, v: int, period: str, _con) -> pd.DataFrame:
    return blocks.unit_blocks(_con, period)


@st.cache_data(show_spinner=False, max_entries=32)
def _counts(path: str, v: int, period: str, scope: tuple | None, _con) -> pd.DataFrame:
    return registry.counts_by_field_status(_con, period, list(scope) if scope is not None else None)


@st.cache_data(show_spinner=False, max_entries=32)
def _best(path: str, v: int, period: str, scope: tuple | None, _con) -> pd.DataFrame:
    return registry.best_models(_con, period, 10, list(scope) if scope is not None else None)


@st.cache_data(show_spinner=False, max_entries=64)
def _model(path: str, v: int, period: str, model_id: str, _con) -> tuple[dict, pd.DataFrame]:
    return registry.get_model(_con, period, model_id), registry.model_history(_con, period, model_id)


@st.cache_data(show_spinner=False, max_entries=4)
def _unit_names(path: str, v: int, _con) -> dict[str, str]:
    u = _units(path, v, _con)
    return dict(zip(u["unit_code"], u["name"]))


@st.cache_data(show_spinner=False, max_entries=16)
def _unit_choices(path: str, v: int, codes: tuple, _con) -> list[str]:
    """Units in the selector, in Vietnamese alphabetical order (folding 3,000 names each run cost 20 ms)."""
    names = _unit_names(path, v, _con)
    return sorted(codes, key=lambda u: fold(names.get(u, u)))


# --------------------------------------------------------------------------- pieces
def field_status_chart(counts: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal stacked bars: one bar per field, one colour per status (the Can Lộc breakdown)."""
    fl = rubric.default_fields()
    order = fl.codes[::-1]
    fig = go.Figure()
    for s in rubric.STATUSES:
        sub = counts[counts["status"] == s].set_index("field").reindex(order)
        fig.add_trace(go.Bar(
            y=[fl.labels[f] for f in order], x=sub["models"].fillna(0), name=rubric.STATUS_LABELS[s],
            orientation="h", marker_color=STATUS_COLORS[s],
            hovertemplate="%{y}: %{x} mô hình " + rubric.STATUS_LABELS[s].lower() + "<extra></extra>"))
    totals = counts.groupby("field")["models"].sum().reindex(order).fillna(0)
    fig.add_trace(go.Scatter(y=[fl.labels[f] for f in order], x=totals, mode="text",
                             text=[common.vn_int(t) for t in totals], textposition="middle right",
                             showlegend=False, hoverinfo="skip"))
    fig.update_layout(barmode="stack", title=title, height=330, margin=dict(l=10, r=40, t=50, b=30),
                      xaxis=dict(title="Số mô hình"), legend=dict(orientation="h", y=-0.2), separators=",.")
    return fig


def rubric_chart(rubric_scores: dict, rubric: rubric.Rubric) -> go.Figure:
    names = [it.name for it in rubric.items][::-1]
    got = [rubric_scores.get(it.code, 0) for it in rubric.items][::-1]
    maxes = [it.max_points for it in rubric.items][::-1]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=maxes, orientation="h", marker_color="#eceff1", name="Tối đa",
                         hoverinfo="skip"))
    fig.add_trace(go.Bar(y=names, x=got, orientation="h", marker_color="#2e7d32", name="Đạt",
                         text=[f"{common.vn(g, 1)}/{m:g}" for g, m in zip(got, maxes)], textposition="outside",
                         cliponaxis=False))
    fig.update_layout(barmode="overlay", height=260, margin=dict(l=10, r=60, t=10, b=20), showlegend=False,
                      separators=",.")
    return fig


def _search(df: pd.DataFrame, text: str) -> pd.DataFrame:
    if not text.strip():
        return df
    q = fold(text)
    hay = (df["name"].fillna("") + " " + df["unit_name"].fillna("") + " " + df["model_id"].fillna("")
           + " " + df["unit_code"].fillna("")).map(fold)
    return df[hay.str.contains(q, regex=False)]


def model_card(con, actor, period: str, model_id: str) -> None:
    rb = rubric.default_rubric()
    rec, h = common.cached(_model, period, model_id, writes=True)
    names = common.cached(_unit_names, writes=True)
    fl = rubric.default_fields().labels
    with st.container(border=True, key="model_card"):
        st.subheader(common.md(rec["name"]))
        st.caption(f"Mã {common.md(rec['model_id'])} · {common.md(names.get(rec['unit_code'], rec['unit_code']))} "
                   f"({common.md(rec['unit_code'])}) · "
                   f"kỳ {common.period_label(period)}")
        c = st.columns(4)
        c[0].metric("Lĩnh vực", fl.get(rec["field"], rec["field"]))
        c[1].metric("Loại", rubric.KIND_LABELS.get(rec["kind"], rec["kind"]))
        c[2].metric("Trạng thái", rubric.STATUS_LABELS.get(rec["status"], rec["status"]))
        c[3].metric("Cấp công nhận", rubric.LEVEL_LABELS.get(rec["level"], "—") if rec["level"] else "—")
        left, right = st.columns([1.3, 1])
        with left:
            st.markdown("**Điểm chất lượng (thang 100)**")
            if rec["rubric"]:
                st.markdown(f"Tổng: **{common.vn(rec['rubric_total'], 1)}**/{rb.total:g}")
                st.plotly_chart(rubric_chart(rec["rubric"], rb), width="stretch", key="rubric_chart")
            else:
                st.info("Mô hình chưa được chấm điểm chất lượng.", icon=":material/pending:")
        with right:
            st.markdown("**Minh chứng**")
            st.write(rec["evidence"] or "— (chưa có)")
            if rec.get("note"):
                st.markdown("**Ghi chú**")
                st.write(rec["note"])
        st.markdown("**Lịch sử trạng thái**")
        common.table(pd.DataFrame({
            "Thời điểm": h["created_at"], "Trạng thái": h["status_name"], "Cấp": h["level_name"],
            "Điểm chất lượng": h["rubric_total"].round(1), "Người ghi": h["actor"],
            "Lô": h["batch_id"], "Nội dung": h["comment"].fillna(h["filename"]),
            "Đã hoàn tác": h["undone"].astype(bool)}), key="model_history")
        if actor is not None and actor.can("import"):
            _status_form(con, actor, period, rec)


def _status_form(con, actor, period: str, rec: dict) -> None:
    allowed = [s for s in rubric.STATUSES if s in rubric.TRANSITIONS[rec["status"]]]
    with st.form(f"status_{rec['model_id']}", border=True):
        st.markdown("**Chuyển trạng thái** (ghi thành một lần nhập, hủy được)")
        c1, c2 = st.columns(2)
        new = c1.selectbox("Trạng thái mới", allowed, format_func=rubric.STATUS_LABELS.get, key="new_status")
        level = c2.selectbox("Cấp công nhận (khi công nhận, nhân rộng)", list(rubric.LEVELS),
                             index=list(rubric.LEVELS).index(rec["level"]) if rec["level"] in rubric.LEVELS else 0,
                             format_func=rubric.LEVEL_LABELS.get, key="new_level")
        note = st.text_input("Ghi chú", key="status_note")
        ok = st.form_submit_button("Ghi trạng thái", type="primary")
    if ok:
        res = registry.set_status(con, period, rec["model_id"], new, actor=actor,
                                level=level if new in rubric.RECOGNISED else None, note=note or None)
        # shown after the rerun; the caches are keyed on the data version, which the write moved
        st.session_state["mh_flash"] = f"Đã chuyển sang '{rubric.STATUS_LABELS[new]}' (lần nhập số {res.batch_id})."
        st.rerun()


# --------------------------------------------------------------------------- the page
def _scope(con, period: str, units: pd.DataFrame, listed: pd.DataFrame) -> tuple[list[str] | None, str]:
    """Province → block → unit selectors; returns the unit codes in scope (None = all) and a label."""
    provinces = common.province_names() if hasattr(common, "province_names") else {}
    with_models = units[isin(units["unit_code"], set(listed["unit_code"]))]
    prov_opts = [ALL] + sorted(with_models["province_code"].dropna().unique().tolist())
    c = st.columns(3)
    prov = c[0].selectbox("Tỉnh, thành phố", prov_opts, key="mh_prov",
                          format_func=lambda p: "Tất cả" if p == ALL else provinces.get(p, p))
    scope_units = units if prov == ALL else units[units["province_code"] == prov]
    label = "toàn bộ" if prov == ALL else provinces.get(prov, prov)
    blk = common.cached(_blocks, period, writes=True)
    blk = blk[isin(blk["unit_code"], set(scope_units["unit_code"]))]
    names = dict(zip(blk["block_code"], blk["block_name"]))
    block = c[1].selectbox("Khối thi đua", [ALL] + sorted(names), key="mh_block",
                           format_func=lambda b: "Tất cả" if b == ALL else names.get(b, b))
    if block != ALL:
        scope_units = scope_units[isin(scope_units["unit_code"], set(blk.loc[blk["block_code"] == block,
                                                                             "unit_code"]))]
        label = names.get(block, block)
    cand = scope_units[isin(scope_units["unit_code"], set(listed["unit_code"]))]
    unit_names = dict(zip(cand["unit_code"], cand["name"]))
    unit = c[2].selectbox("Đơn vị", [ALL] + common.cached(_unit_choices, tuple(sorted(unit_names)), writes=True),
                          key="mh_unit",
                          format_func=lambda u: "Tất cả" if u == ALL else f"{unit_names.get(u, u)} · {u}")
    if unit != ALL:
        return [unit], f"{unit_names.get(unit, unit)} ({unit})"
    if prov == ALL and block == ALL:
        return None, label
    return scope_units["unit_code"].tolist(), label


def render(con, actor) -> None:
    """The page body (app.py registers the page; ``main`` adds the header)."""
    options = periods.periods(con)
    if not options:
        common.no_data("(chưa có kỳ đánh giá).")
        return
    if flash := st.session_state.pop("mh_flash", None):
        st.success(flash, icon=":material/check_circle:")
    period = common.period_select("mh_period", only_with_data=False)
    listed = common.cached(_list, period, writes=True)
    fw = period_store.framework_for_period(con, period)
    derived_codes = derived.derived_criteria(fw)
    if derived_codes:
        st.caption("Trong bộ tiêu chí của kỳ này, các tiêu chí " + ", ".join(derived_codes)
                   + " được tính tự động từ sổ mô hình (không nhập điểm tay).")
    if listed.empty:
        st.info("Chưa có mô hình nào trong kỳ này. Cán bộ nhập liệu tải danh sách mô hình ở trang **Nhập dữ liệu** "
                "(hoặc `danvan import TỆP --kind models`).", icon=":material/inbox:")
        return
    units = common.cached(_units, writes=True)
    scope, label = _scope(con, period, units, listed)
    shown = listed if scope is None else listed[isin(listed["unit_code"], scope)]

    m = st.columns(5)
    m[0].metric("Mô hình", common.vn_int(len(shown)))
    m[1].metric("Đăng ký, đang thực hiện",
                common.vn_int(shown["status"].isin(("registered", "in_progress")).sum()))
    m[2].metric("Được công nhận", common.vn_int(shown["status"].isin(rubric.RECOGNISED).sum()))
    m[3].metric("Được nhân rộng", common.vn_int((shown["status"] == "replicated").sum()))
    rec = shown[shown["status"].isin(rubric.RECOGNISED) & shown["rubric_total"].notna()]
    m[4].metric("Điểm chất lượng bình quân", common.vn(rec["rubric_total"].mean(), 1) if len(rec) else "—",
                help="Bình quân điểm chất lượng (thang 100) của các mô hình được công nhận đã chấm")

    key = tuple(scope) if scope is not None else None
    counts = common.cached(_counts, period, key, writes=True)
    st.plotly_chart(field_status_chart(counts, f"Mô hình theo lĩnh vực và trạng thái — {label}"),
                    width="stretch", key="mh_chart")

    t_list, t_best, t_units = st.tabs(["Danh sách mô hình", "Mô hình tiêu biểu", "Theo đơn vị"])
    with t_list:
        _list_tab(con, actor, period, shown)
    with t_best:
        best = common.cached(_best, period, key, writes=True)
        if best.empty:
            st.info("Chưa có mô hình được công nhận nào đã chấm điểm trong phạm vi này.")
        else:
            common.table(_view(best), key="mh_best")
    with t_units:
        _units_tab(con, period, scope)


def _view(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Mã mô hình": df["model_id"], "Tên mô hình": df["name"], "Đơn vị": df["unit_name"],
        "Mã đơn vị": df["unit_code"], "Lĩnh vực": df["field_name"],
        "Loại": df["kind"].map(rubric.KIND_LABELS), "Trạng thái": df["status_name"],
        "Cấp công nhận": df["level_name"], "Điểm chất lượng": df["rubric_total"].round(1)})


def _list_tab(con, actor, period: str, shown: pd.DataFrame) -> None:
    fl = rubric.default_fields()
    c = st.columns([1.2, 1.2, 1, 1.6])
    fields = common.filter_multiselect(c[0], "Lĩnh vực", fl.codes, format_func=fl.labels.get, key="mh_f_field")
    statuses = common.filter_multiselect(c[1], "Trạng thái", list(rubric.STATUSES),
                                         format_func=rubric.STATUS_LABELS.get, key="mh_f_status")
    kinds = common.filter_multiselect(c[2], "Loại", list(rubric.KINDS), format_func=rubric.KIND_LABELS.get,
                                      key="mh_f_kind")
    text = c[3].text_input("Tìm mô hình", key="mh_search", placeholder="Tên mô hình, đơn vị hoặc mã",
                           type="search", live="400ms",
                           help="Không cần gõ dấu: “phan loai rac” cũng tìm được “Phân loại rác”")
    df = shown
    if fields:
        df = df[df["field"].isin(fields)]
    if statuses:
        df = df[df["status"].isin(statuses)]
    if kinds:
        df = df[df["kind"].isin(kinds)]
    df = _search(df, text)
    st.markdown(f"**{common.vn_int(len(df))}** mô hình đang hiển thị (trong {common.vn_int(len(shown))})")
    common.table(_view(df), height=380, key="mh_table")
    if df.empty:
        return
    ids = df["model_id"].tolist()
    labels = dict(zip(df["model_id"], df["name"]))
    if st.session_state.get("mh_pick") not in ids:
        st.session_state.pop("mh_pick", None)
    pick = st.selectbox("Xem thẻ mô hình", ids, key="mh_pick", format_func=lambda i: f"{labels[i]} · {i}")
    if pick:
        model_card(con, actor, period, pick)


def _units_tab(con, period: str, scope: list[str] | None) -> None:
    s = common.cached(_summary, period, writes=True)
    if scope is not None:
        s = s[isin(s["unit_code"], scope)]
    fl = rubric.default_fields()
    gap = st.selectbox("Chỉ các đơn vị chưa có mô hình ở lĩnh vực", [ALL] + fl.codes, key="mh_gap",
                       format_func=lambda f: "(không lọc)" if f == ALL else fl.labels[f])
    if gap != ALL:
        s = s[s[f"n_{gap}"] == 0]
    names = common.cached(_unit_names, writes=True)
    view = pd.DataFrame({"Mã đơn vị": s["unit_code"], "Đơn vị": s["unit_code"].map(names),
                         "Mô hình": s["models_total"], "Đang thực hiện / công nhận": s["models_active"],
                         "Được công nhận": s["models_recognised"]})
    for f in fl.fields:
        view[f.name] = s[f"n_{f.code}"]
    view["Số lĩnh vực"] = s["fields_covered"]
    view["% đăng ký so với chỉ tiêu"] = s["models_registered_ratio"].round(1)
    view["% được công nhận"] = s["share_recognised"].round(1)
    view["Điểm chất lượng bình quân"] = s["mean_rubric_recognised"].round(1)
    view["Lĩnh vực chưa có"] = s["fields_missing"]
    st.markdown(f"**{common.vn_int(len(view))}** đơn vị")
    common.table(view, height=420, key="mh_units")


def main() -> None:
    common.header("Mô hình “Dân vận khéo”",
                  "Mô hình, điển hình theo lĩnh vực và trạng thái; chất lượng theo thang điểm 100")
    render(common.db(), common.actor())


if __name__ == "__main__":
    common.guarded(main)()
