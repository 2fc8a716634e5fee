"""Hồ sơ đơn vị: one unit's total, tier, ranks, history, criterion breakdown and points lost.

The URL carries the unit and the period (``ho-so?unit=18304&period=2025``) so a leader can
send the link; choosing another unit or period here updates the URL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from danvan_scoring import awards, batches, insights, rubric, sensitivity, store, units
from pages import common

KIND_SHORT = {"points": "Chấm điểm", "ratio": "Tỷ lệ", "pass_fail": "Đạt/không", "count": "Số lần",
              "bonus": "Điểm cộng", "penalty": "Điểm trừ"}


def _sync_from_url(key: str, param: str, options: list[str]) -> None:
    """A link opened (or followed) with ?param=… selects that option, once per new value."""
    value = st.query_params.get(param)
    seen = f"_url_{param}"
    if value and value in options and st.session_state.get(seen) != value:
        st.session_state[key] = value
    st.session_state[seen] = value


def choose() -> tuple[str | None, str | None, pd.DataFrame | None]:
    """The period and unit chosen (from the URL first), and the period's table they came from."""
    options = common.periods_with_data() or common.periods()
    if not options:
        return None, None, None
    _sync_from_url("profile_period", "period", options)
    c1, c2 = st.columns([1, 3])
    period = common.period_select("profile_period", container=c1, default=st.query_params.get("period"))
    res = common.period_table(period)
    if res.empty:
        return period, None, res
    codes = res["unit_code"].tolist()
    labels = common.period_unit_labels(period)
    _sync_from_url("profile_unit", "unit", codes)
    if st.session_state.get("profile_unit") not in labels:
        st.session_state.pop("profile_unit", None)
    unit = c2.selectbox("Đơn vị", codes, key="profile_unit", format_func=lambda u: labels.get(u, u),
                        help="Gõ tên hoặc mã để tìm")
    if st.query_params.get("unit") != unit or st.query_params.get("period") != period:
        st.query_params.update({"unit": unit, "period": period})
        st.session_state["_url_unit"], st.session_state["_url_period"] = unit, period
    return period, unit, res


def headline(row: pd.Series, res: pd.DataFrame, fw) -> None:
    prov = common.province_names().get(row["province_code"], row["province_name"])
    st.subheader(common.md(row["unit_name"]))
    st.caption(f"{units.UNIT_TYPES.get(row['unit_type'], row['unit_type'])} · {common.md(prov)} · "
               f"{common.md(row['block_name'] or 'chưa xếp khối')} · mã {common.md(row['unit_code'])} · "
               f"bộ trọng số {common.md(row['profile'])}")
    ranked = res["rank"].notna()
    n_ranked = int(ranked.sum())
    c = st.columns(6)
    delta = None if pd.isna(row.get("delta_total")) else f"{common.vn(row['delta_total'], sign=True)} so với kỳ trước"
    estimated_prev = bool(row.get("prev_estimated")) and delta is not None
    if estimated_prev:  # the previous figure comes from the old units: never shown without the mark
        delta += f" ({common.ESTIMATED})"
    c[0].metric("Tổng điểm", common.vn(row["total"]), delta=delta, border=True,
                help=common.ESTIMATED_HELP if estimated_prev else None)
    self_tier = row.get("tier_self")
    c[1].metric("Xếp loại", common.tier_words(row.to_frame().T).iloc[0], border=True,
                delta=f"tự chấm: {self_tier}" if isinstance(self_tier, str) and self_tier else None,
                delta_color="off", delta_arrow="off",
                help="Xếp loại sau thẩm định; bên dưới là xếp loại mà điểm tự chấm của đơn vị sẽ đạt")
    rank = "—" if pd.isna(row["rank"]) else f"{int(row['rank'])}/{common.vn_int(n_ranked)}"
    drank = None if pd.isna(row.get("delta_rank")) else f"{int(row['delta_rank']):+d} bậc"
    if drank and estimated_prev:
        drank += f" ({common.ESTIMATED})"
    c[2].metric("Hạng chung", rank, delta=drank, border=True)
    prank = row.get("province_rank")
    in_province = res["province_code"].eq(row["province_code"]).fillna(False).to_numpy(dtype=bool)
    prank = "—" if prank is None or pd.isna(prank) else \
        f"{int(prank)}/{common.vn_int(int(ranked.to_numpy(dtype=bool)[in_province].sum()))}"
    c[3].metric("Hạng trong tỉnh", prank, border=True)
    in_block = res["block"].eq(row["block"]).fillna(False).to_numpy(dtype=bool)   # a unit with no block: NA
    brank = "—" if pd.isna(row["block_rank"]) else \
        f"{int(row['block_rank'])}/{int(res['block_rank'].notna().to_numpy(dtype=bool)[in_block].sum())}"
    c[4].metric("Hạng trong khối", brank, border=True)
    gap = None if pd.isna(row["gap"]) else f"chênh {common.vn(row['gap'], sign=True)}"
    c[5].metric("Điểm tự chấm", common.vn(row["total_self"]), delta=gap, delta_color="off", delta_arrow="off", border=True,
                help="Tổng điểm đơn vị tự chấm; chênh lệch dương là đơn vị tự chấm cao hơn kết quả thẩm định")
    if estimated_prev:  # the metric's delta is cut to its box's width: the mark is said in full here too
        st.caption(f"± điểm, ± bậc so với kỳ trước: **{common.ESTIMATED}** — đơn vị chưa tồn tại trước 01/07/2025, "
                   "điểm kỳ trước là bình quân có trọng số của các đơn vị cũ hợp thành (danh sách bên dưới).")
    why = common.reasons(row)
    if not row["eligible"]:
        label = awards.STATUS_LABELS.get(row.get("status") or "incomplete", awards.STATUS_LABELS["incomplete"])
        st.warning(f"**{label}** — {common.md(why)}.", icon=":material/warning:")
    elif why:
        st.info(f"Lưu ý: {common.md(why)}.", icon=":material/info:")


SCORED_KINDS = ["points", "ratio", "pass_fail", "count"]   # the kinds whose missing appraisal is a gap


def breakdown_view(bd: pd.DataFrame) -> pd.DataFrame:
    """Every criterion of ``bd`` (one unit's, or the period's breakdown) as the criteria tables show
    it, row for row, formulas neutralised."""
    view = pd.DataFrame({
        "Mã": bd["criterion_code"], "Tiêu chí": bd["criterion_name"], "Loại": bd["kind"].map(KIND_SHORT),
        "Tối đa": bd["max_points"], "Tự chấm": bd["points_self"], "Thẩm định": bd["points_appraised"],
        "Tự chấm − thẩm định": bd["gap"], "Giá trị thẩm định": bd["value_appraised"],
        "Minh chứng": bd["evidence"], "Ghi chú": bd["note"],
    })
    view["Thẩm định"] = view["Thẩm định"].where(~bd["missing"].to_numpy() | ~bd["kind"].isin(SCORED_KINDS).to_numpy())
    # small tables: Vietnamese decimal commas and empty cells rather than "None"
    for col in ("Tối đa", "Tự chấm", "Thẩm định", "Giá trị thẩm định"):
        view[col] = common.vn_cells(view[col])
    view["Tự chấm − thẩm định"] = common.vn_cells(view["Tự chấm − thẩm định"], sign=True)
    for col in ("Minh chứng", "Ghi chú"):
        view[col] = view[col].fillna("")
    for col in ("Mã", "Tiêu chí", "Loại"):   # the framework's few dozen texts, repeated once per unit
        view[col] = view[col].astype("category")
    return common.safe_frame(view)


@st.cache_resource(show_spinner=False, max_entries=4)
def _breakdown_arrow(path: str, v: int, period: str, profile_json: str, _con) -> pa.Table:
    """``breakdown_view`` of the period's whole breakdown (``common.period_breakdown``), as the Arrow
    table st.dataframe sends: built once per period and data version; a unit's group table is then a
    zero-copy slice instead of a pandas view built and converted on every profile opened. Shared."""
    bd, _ = common._period_breakdown(path, v, period, profile_json, _con)   # the same key, not looked up again
    return pa.Table.from_pandas(breakdown_view(bd), preserve_index=False)


def unit_view(period: str, bd: pd.DataFrame, pos: int) -> pa.Table:
    """The criteria rows of one unit (``common.unit_breakdown``: its rows and their position)."""
    if pos < 0:
        return pa.Table.from_pandas(breakdown_view(bd), preserve_index=False)
    return common.cached(_breakdown_arrow, period, common.official(period).model_dump_json()).slice(pos, len(bd))


def breakdown_tab(*, period: str, bd: pd.DataFrame, pos: int, fw, profile, **_) -> None:
    gmax = insights.group_max(fw, profile)
    view = unit_view(period, bd, pos)
    groups, obtained = bd["group_code"].to_numpy(), bd["obtained"].to_numpy(dtype=float, na_value=np.nan)
    config = {
        "Tiêu chí": st.column_config.TextColumn(width="large"),
        "Tối đa": st.column_config.TextColumn(help="Điểm tối đa theo bộ tiêu chí"),
        "Tự chấm": st.column_config.TextColumn(help="Điểm đơn vị tự chấm"),
        "Thẩm định": st.column_config.TextColumn(help="Điểm sau thẩm định (điểm dùng để xếp hạng)"),
        "Giá trị thẩm định": st.column_config.TextColumn(help="Giá trị đã nhập: điểm, tỷ lệ %, số lần hoặc 1/0"),
    }
    for g in fw.groups:
        rows = np.flatnonzero(groups == g.code)   # contiguous: framework order
        got = np.nansum(obtained[rows])   # as pandas' sum: a criterion with no points adds nothing
        if g.code in gmax:
            st.markdown(f"**{common.group_label(fw, g.code)}** — {common.vn(got)} / {common.vn(gmax[g.code], 1)} điểm")
        else:
            st.markdown(f"**{g.code}. {g.name}** — {common.vn(got, sign=True)} điểm")
        common.table(view.slice(int(rows[0]) if len(rows) else 0, len(rows)), column_config=config, neutralised=True)
    missing = bd[bd["missing"] & bd["kind"].isin(SCORED_KINDS)]
    if len(missing):
        st.caption("Tiêu chí chưa có điểm thẩm định: " + ", ".join(missing["criterion_code"]))


def strengths_tab(*, period: str, unit: str, res: pd.DataFrame, fw, **_) -> None:
    contrib = common.contributions(period)
    strengths, weaknesses = insights.versus_block(contrib, res, unit, fw, n=5)
    row = res[res["unit_code"] == unit].iloc[0]
    st.caption(f"So với bình quân của {len(insights.block_peers(res, unit))} đơn vị trong {common.md(row['block_name'])}, "
               "tính bằng điểm trong tổng điểm.")
    a, b = st.columns(2)
    for col, frame, title, empty in ((a, strengths, "Điểm mạnh", "Không có tiêu chí nào cao hơn bình quân khối."),
                                     (b, weaknesses, "Điểm yếu", "Không có tiêu chí nào thấp hơn bình quân khối.")):
        with col:
            st.markdown(f"**{title}**")
            if frame.empty:
                st.caption(empty)
                continue
            view = pd.DataFrame({"Tiêu chí": frame["criterion_code"] + " — " + frame["criterion_name"],
                                 "Đơn vị": frame["unit"], "Bình quân khối": frame["block_mean"],
                                 "Chênh lệch": frame["diff"]})
            common.table(view, column_config={
                "Đơn vị": st.column_config.NumberColumn(format="%.2f"),
                "Bình quân khối": st.column_config.NumberColumn(format="%.2f"),
                "Chênh lệch": st.column_config.NumberColumn(format="%+.2f"),
            })


def lost_tab(*, bd: pd.DataFrame, **_) -> None:
    lost = insights.points_lost(bd)
    if lost.empty:
        st.success("Đơn vị không có tiêu chí bị mất điểm.", icon=":material/check_circle:")
        return
    st.caption(f"Tổng cộng mất {common.vn(lost['lost'].sum())} điểm. Điểm bị mất = trọng số của tiêu chí "
               "(số điểm nó mang trong tổng) × phần chưa đạt; điểm trừ tính nguyên số điểm trừ.")
    top = lost.head(12).iloc[::-1]
    fig = go.Figure(go.Bar(x=top["lost"].round(2), y=top["criterion_code"], orientation="h", marker_color="#d7301f",
                           text=[common.vn(x) for x in top["lost"]], textposition="outside", cliponaxis=False,
                           customdata=top["criterion_name"],
                           hovertemplate="%{y} — %{customdata}<br>Mất %{x:.2f} điểm<extra></extra>"))
    fig.update_layout(title="Tiêu chí bị mất điểm (mất nhiều nhất trước)", height=max(240, 30 * len(top) + 90),
                      margin=dict(l=10, r=40, t=50, b=30), xaxis_title="Điểm bị mất", separators=",.")
    st.plotly_chart(fig, width="stretch", key="lost_chart")
    view = pd.DataFrame({"Mã": lost["criterion_code"], "Tiêu chí": lost["criterion_name"],
                         "Trọng số (điểm)": lost["weight"], "Đạt được": lost["obtained"], "Bị mất": lost["lost"]})
    common.table(view, column_config={
        c: st.column_config.NumberColumn(format="%.2f") for c in ("Trọng số (điểm)", "Đạt được", "Bị mất")})


def history_tab(*, period: str, unit: str, **_) -> None:
    tr = common.unit_trend(unit, period)
    estimated = tr["estimated"].fillna(False).astype(bool) if "estimated" in tr.columns else \
        pd.Series(False, index=tr.index)
    if len(tr) > 1:
        fig = go.Figure(common.trend_trace(tr, name="Tổng điểm", color="#b71c1c", text=True))
        fig.update_layout(title="Tổng điểm qua các kỳ", height=320, margin=dict(l=10, r=10, t=50, b=30),
                          yaxis=dict(range=[0, 105], title="Tổng điểm"), xaxis=dict(type="category"), separators=",.",
                          legend=dict(orientation="h", y=-0.2))
        st.plotly_chart(fig, width="stretch", key="history_chart")
    if estimated.any():
        st.caption(f"Vòng rỗng, nét đứt: {common.ESTIMATED} (đơn vị chưa tồn tại trước 01/07/2025; bình quân có "
                   "trọng số điểm của các đơn vị cũ hợp thành, xem danh sách ở trên). Hạng của các kỳ đó là hạng "
                   "giữa các đơn vị mới ước tính như vậy.")
    view = pd.DataFrame({"Kỳ": tr["period"].map(common.period_label), "Tổng điểm": tr["total"].round(2),
                         "Hạng": tr["rank"], "Hạng trong khối": tr["block_rank"], "Xếp loại": tr["tier"],
                         "Ghi chú": [common.ESTIMATED if e else None for e in estimated]})
    common.table(view, key="history_table",
                 column_config={"Tổng điểm": st.column_config.NumberColumn(format="%.2f")})
    with st.expander("Lịch sử nhập điểm của kỳ này (mọi lần nhập, kể cả giá trị đã thay hoặc hoàn tác)"):
        hist = batches.score_history(common.db(), unit, period)
        if hist.empty:
            st.caption("Chưa có lần nhập nào.")
        else:
            common.table(pd.DataFrame({
                "Tiêu chí": hist["criterion_code"], "Loại điểm": hist["stage"].map(store.STAGE_LABELS),
                "Giá trị": hist["value"], "Lần nhập": hist["batch_id"], "Người nhập": hist["actor"],
                "Thời điểm": hist["created_at"], "Tệp": hist["filename"], "Đã hoàn tác": hist["undone"],
            }), height=300)


def merger_section(period: str, unit: str) -> None:
    """Across the 1 July 2025 merger: an old unit says what it became; a new unit lists the old
    units it was formed from with their own figures (its own figure for those years is estimated)."""
    if common.is_pre_merger(period):
        went = common.successors_of(unit)
        if went.empty:
            return
        names = common.unit_names()
        into = ", ".join(f"{names.get(c, c)} ({c}, {common.vn(100 * s, 0)}%)"
                         for c, s in zip(went["unit_code"], went["share"]))
        st.info(f"Đơn vị cũ trước 01/07/2025 (huyện {common.md(went['legacy_district'].iloc[0])}): điểm, hạng, "
                f"xếp loại và khối là của chính đơn vị cũ trong kỳ này. Nay thuộc: {common.md(into)}.",
                icon=":material/history:")
        return
    pf = common.predecessors(unit)
    if pf.empty:
        return
    st.subheader("Các đơn vị cũ hợp thành (trước 01/07/2025)")
    st.caption(f"Điểm của đơn vị này trong các kỳ trước 01/07/2025 là **{common.ESTIMATED}**: bình quân có trọng số "
               "điểm của các đơn vị dưới đây (trọng số là phần của mỗi đơn vị cũ nhập vào đơn vị này). Điểm, hạng, "
               "xếp loại và khối trong bảng là của chính các đơn vị cũ.")
    common.table(pd.DataFrame({
        "Kỳ": pf["period"].map(common.period_label), "Mã cũ": pf["legacy_code"], "Đơn vị cũ": pf["legacy_name"],
        "Huyện cũ": pf["legacy_district"], "Phần nhập vào đơn vị này": (100 * pf["share"]).round(1),
        "Tổng điểm": pf["total"].round(2), "Hạng": pf["rank"], "Xếp loại": pf["tier"],
        "Hạng trong khối": pf["block_rank"], "Ghi chú": pf["mark"],
    }), key="predecessors_table", column_config={
        "Phần nhập vào đơn vị này": st.column_config.NumberColumn(format="%.1f%%", help=(
            "Cả đơn vị cũ nhập vào: 100%; đơn vị cũ bị chia: tỷ lệ ước theo hình học (dữ liệu gói vietnamadminunits) "
            "hoặc chia đều")),
        "Tổng điểm": st.column_config.NumberColumn(format="%.2f")})


def robustness_section(period: str, unit: str, row: pd.Series, fw) -> None:
    """How solid the unit's rank and tier are: tier probabilities, interval, which weight moves it."""
    st.subheader("Hạng và xếp loại khi trọng số thay đổi")
    r = common.uncertainty_row(period, unit)
    if pd.isna(row["rank"]) or r is None:
        st.caption("Đơn vị chưa được xếp hạng (chưa đủ dữ liệu hoặc không đủ điều kiện xếp loại) "
                   "nên không có thứ hạng để thử khi trọng số thay đổi.")
        return
    draws, spread = common.unc_settings()
    left, right = st.columns([1, 1.3])
    with left:
        probs = sensitivity.tier_probabilities(r, fw)
        fig = go.Figure(go.Bar(
            x=(100 * probs["probability"]).round(1).tolist(), y=probs["tier"].tolist(), orientation="h",
            marker_color=[common.TIER_COLORS.get(c, common.TIER_COLORS[None]) for c in probs["tier_code"]],
            marker_line=dict(color=["#212121" if n else "rgba(0,0,0,0)" for n in probs["nominal"]], width=2),
            text=[f"{common.vn(100 * p, 0)}%" for p in probs["probability"]], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:.1f}% số lần thử<extra></extra>"))
        fig.update_layout(title="Khả năng đạt từng mức xếp loại", height=260, margin=dict(l=10, r=40, t=50, b=30),
                          xaxis=dict(range=[0, 110], title="% số lần thử", ticksuffix="%"),
                          yaxis=dict(autorange="reversed", automargin=True), separators=",.")
        st.plotly_chart(fig, width="stretch", key="tier_prob_chart")
        st.caption(f"Viền đậm: mức xếp loại hiện tại. {common.vn_int(draws)} lần thử, mỗi trọng số thay đổi "
                   f"ngẫu nhiên ±{common.vn(100 * spread, 0)}%.")
    with right:
        c = st.columns(2)
        lo, hi = int(r["rank_p05"]), int(r["rank_p95"])
        c[0].metric(common.RANGE_LABEL, f"{lo}" if lo == hi else f"{lo}–{hi}", border=True,
                    help="Trong 90% số lần thử thay đổi trọng số, đơn vị đứng trong khoảng hạng này. "
                         + sensitivity.interval_statistic(draws, spread))
        c[1].metric(common.STABLE_LABEL, common.STABLE_MARK[bool(r["stable"])], border=True,
                    help=sensitivity.stable_statistic())
        st.markdown(sensitivity.explain_interval(r, spread=spread))
        summary, curve, most = common.rank_swing(period, unit)
        st.markdown(insights.swing_sentence(summary, most, curve["factor"].tolist()))
    # lazy: the chart and table of a closed expander are not built (issue 14); opening it reruns
    swing = st.expander("Ảnh hưởng của từng nhóm trọng số đến thứ hạng", key="swing_open", on_change="rerun")
    with swing:
        if not swing.open:
            return
        fig = go.Figure()
        for code, part in curve.groupby("group", sort=False):
            fig.add_trace(go.Scatter(x=part["factor"], y=part["rank"], mode="lines+markers", name=f"Nhóm {code}",
                                     hovertemplate="×%{x:.1f}: hạng %{y}<extra>Nhóm " + code + "</extra>"))
        fig.update_layout(title="Hạng của đơn vị khi nhân riêng trọng số một nhóm", height=320,
                          xaxis_title="Hệ số nhân trọng số nhóm", yaxis=dict(title="Hạng", autorange="reversed"),
                          margin=dict(l=10, r=10, t=50, b=30), separators=",.")
        st.plotly_chart(fig, width="stretch", key="swing_chart")
        common.table(pd.DataFrame({
            "Nhóm": "Nhóm " + summary["group"] + " — " + summary["group_name"].fillna(""),
            "Hạng hiện nay": summary["rank"], "Hạng tốt nhất": summary["rank_best"],
            "Khi nhân trọng số": summary["factor_best"], "Hạng kém nhất": summary["rank_worst"],
            "Khi nhân trọng số ": summary["factor_worst"], "Chênh lệch (bậc)": summary["swing"],
        }), key="swing_table", column_config={
            "Khi nhân trọng số": st.column_config.NumberColumn(format="×%.1f"),
            "Khi nhân trọng số ": st.column_config.NumberColumn(format="×%.1f")})


def models_tab(*, period: str, unit: str, bd: pd.DataFrame, fw, **_) -> None:
    """The unit's models beside the points derived from them (the model group)."""
    listed, derived = common.unit_models(period, unit)
    groups = sorted({fw.group_of[c] for c in derived["criterion_code"]}) if len(derived) else []
    for g in groups:
        part = bd[bd["group_code"] == g]
        gmax = insights.group_max(fw, common.official(period))
        if g in gmax:
            st.markdown(f"**{common.group_label(fw, g)}** — {common.vn(part['obtained'].sum())} / "
                        f"{common.vn(gmax[g], 1)} điểm trong tổng điểm")
    left, right = st.columns([1, 1.2])
    with left:
        st.markdown("**Điểm tính từ sổ mô hình**")
        if derived.empty:
            st.caption("Bộ tiêu chí của kỳ này không có tiêu chí nào tính từ sổ mô hình.")
        else:
            common.table(pd.DataFrame({
                "Mã": derived["criterion_code"], "Tiêu chí": derived["name"], "Giá trị": derived["value"],
                "Điểm": derived["points"], "Tối đa": derived["max_points"],
                "Số mô hình": [len(m) for m in derived["models"]],
                "Tính từ các mô hình": [", ".join(m) for m in derived["models"]], "Cách tính": derived["note"],
            }), key="derived_table", column_config={
                "Tiêu chí": st.column_config.TextColumn(width="medium"),
                "Giá trị": st.column_config.NumberColumn(format="%.2f"),
                "Điểm": st.column_config.NumberColumn(format="%.2f", help="Điểm theo thang của bộ tiêu chí"),
                "Tối đa": st.column_config.NumberColumn(format="%.2f")})
    with right:
        st.markdown(f"**Mô hình, điển hình của đơn vị ({common.vn_int(len(listed))})**")
        if listed.empty:
            st.info("Đơn vị chưa đăng ký mô hình, điển hình nào trong kỳ này.", icon=":material/inbox:")
            return
        used: dict[str, list[str]] = {}
        for code, ids in zip(derived["criterion_code"], derived["models"]):
            for i in ids:
                used.setdefault(i, []).append(code)
        common.table(pd.DataFrame({
            "Mã mô hình": listed["model_id"], "Tên mô hình": listed["name"], "Lĩnh vực": listed["field_name"],
            "Loại": listed["kind"].map(rubric.KIND_LABELS), "Trạng thái": listed["status_name"],
            "Cấp công nhận": listed["level_name"], "Điểm chất lượng": listed["rubric_total"].round(1),
            "Dùng cho tiêu chí": [", ".join(used.get(i, [])) or "—" for i in listed["model_id"]],
        }), key="unit_models_table", column_config={
            "Tên mô hình": st.column_config.TextColumn(width="medium"),
            "Điểm chất lượng": st.column_config.NumberColumn(format="%.1f", help="Thang 100")})
        st.caption("Chi tiết từng mô hình (thang điểm, minh chứng, lịch sử trạng thái) ở trang **Mô hình**.")


TABS = {"Điểm theo tiêu chí": breakdown_tab, "Điểm mạnh, điểm yếu so với khối": strengths_tab,
        "Tiêu chí bị mất điểm": lost_tab, "Lịch sử": history_tab, "Mô hình “Dân vận khéo”": models_tab}


def main() -> None:
    common.header("Hồ sơ đơn vị", "Kết quả chi tiết của một đơn vị: điểm từng tiêu chí, điểm mạnh, điểm yếu, "
                                  "tiêu chí bị mất điểm")
    period, unit, res = choose()
    if period is None or unit is None:
        common.no_data("để xem hồ sơ đơn vị.")
        return
    fw = common.framework(period)
    row = res.iloc[int(np.flatnonzero(res["unit_code"].eq(unit).to_numpy(dtype=bool))[0])]   # not a frame take
    headline(row, res, fw)
    common.guarded(merger_section)(period, unit)
    common.guarded(robustness_section)(period, unit, row, fw)
    profile = common.official(period)
    bd, pos = common.unit_breakdown(period, unit)
    # lazy tabs: only the open tab is computed and drawn (a profile rerun for a new unit computes its
    # criteria and not also its strengths, history and models; a tab opened later reruns the script)
    tabs = st.tabs(list(TABS), key="profile_view", on_change="rerun")
    for tab, draw in zip(tabs, TABS.values()):
        if tab.open:
            with tab:
                common.guarded(draw)(period=period, unit=unit, res=res, fw=fw, profile=profile, bd=bd, pos=pos)

main()
