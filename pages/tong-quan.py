"""Tổng quan: headline cards, tier distribution, where communes stand, most improved and declined."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st

from danvan_scoring import insights
from pages import common


def cards(res, fw) -> None:
    s = insights.summary(res)
    c = st.columns(4)
    c[0].metric("Đơn vị được chấm", common.vn_int(s["units"]), border=True,
                help="Số đơn vị có điểm trong kỳ, trong phạm vi đang lọc")
    c[1].metric("Đủ điều kiện xếp loại", common.vn_int(s["eligible"]),
                delta=f"{common.vn_int(s['not_eligible'])} chưa đủ dữ liệu" if s["not_eligible"] else None,
                delta_color="off", delta_arrow="off", border=True)
    delta = None if math.isnan(s["mean_change"]) else f"{common.vn(s['mean_change'], sign=True)} so với kỳ trước"
    across = delta is not None and "prev_estimated" in res.columns and bool(res["prev_estimated"].fillna(False).any())
    if across:  # the previous figures come from the old units: the change is never shown without the mark
        delta += f" ({common.ESTIMATED})"
    c[2].metric("Điểm bình quân", common.vn(s["mean_total"]), delta=delta, border=True,
                help="Bình quân tổng điểm của các đơn vị đủ điều kiện; thay đổi tính trên các đơn vị có điểm cả hai kỳ"
                     + (". " + common.ESTIMATED_HELP if across else ""))
    share = s["excellent"] / s["eligible"] if s["eligible"] else 0
    c[3].metric(f"Xếp loại {fw.tiers[0].name}", common.vn_int(s["excellent"]),
                delta=f"{common.vn(100 * share, 1)}% số đơn vị đủ điều kiện", delta_color="off", delta_arrow="off", border=True)
    if across:  # the card's delta is cut to its width: the mark in full under the cards
        st.caption(f"Thay đổi so với kỳ trước: **{common.ESTIMATED}** — các đơn vị mới chưa tồn tại trước 01/07/2025; "
                   "điểm kỳ trước của mỗi đơn vị là bình quân có trọng số điểm của các đơn vị cũ hợp thành.")


def tier_chart(res, fw) -> go.Figure:
    dist = insights.tier_distribution(res, fw)
    fig = go.Figure(go.Bar(
        x=dist["tier"], y=dist["count"],
        marker_color=[common.TIER_COLORS.get(t, common.TIER_COLORS[None]) for t in dist["tier_code"]],
        text=[f"{common.vn_int(n)} ({common.vn(100 * s, 1)}%)" for n, s in zip(dist["count"], dist["share"])],
        textposition="outside", cliponaxis=False, textfont=dict(size=13),
        hovertemplate="%{x}: %{y} đơn vị<extra></extra>"))
    fig.update_layout(title="Phân bố xếp loại", height=380, margin=dict(l=10, r=10, t=50, b=30),
                      yaxis_title="Số đơn vị", separators=",.")
    return fig


def map_chart(res, fw) -> go.Figure:
    """Communes as points at their coordinates, coloured by tier; no base map, nothing fetched."""
    pts = res.dropna(subset=["lat", "lon"])
    fig = go.Figure()
    every = common.unit_points()
    fig.add_trace(go.Scattergl(
        x=every["lon"], y=every["lat"], mode="markers", name="Đơn vị khác", showlegend=False,
        marker=dict(color="#d9d9d2", size=3), hoverinfo="skip"))
    for code, name in reversed(common.tier_legend_order(fw)):  # best tiers drawn last, on top
        sub = pts[pts["tier_code"].isna()] if code is None else pts[pts["tier_code"] == code]
        if sub.empty:
            continue
        fig.add_trace(go.Scattergl(
            x=sub["lon"], y=sub["lat"], mode="markers", name=name,
            marker=dict(color=common.TIER_COLORS.get(code), size=7, line=dict(width=0.5, color="white")),
            text=sub["unit_name"], customdata=sub["total"].round(2),
            hovertemplate="%{text}<br>Tổng điểm %{customdata:.2f}<extra>" + name + "</extra>"))
    mid_lat = float(pts["lat"].mean()) if len(pts) else 16.0
    # frame the scored units (with a margin), so a province fills the box instead of a speck
    if len(pts):
        pad = 0.3
        fig.update_xaxes(range=[pts["lon"].min() - pad, pts["lon"].max() + pad])
        fig.update_yaxes(range=[pts["lat"].min() - pad, pts["lat"].max() + pad])
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1 / max(0.2, math.cos(math.radians(mid_lat))))
    fig.update_layout(title="Vị trí các đơn vị theo xếp loại", height=520, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.02, traceorder="reversed"), plot_bgcolor="#f7f7f4")
    return fig


MAP_VIEWS = ("Đơn vị cũ như khi đó", "Trên đơn vị mới (ước tính)")


def estimated_map_chart(m) -> go.Figure:
    """A pre-merger period on the new units: each new unit's figure estimated from its old units,
    drawn as hollow points coloured by the total, the hover saying why."""
    pts = m.dropna(subset=["lat", "lon"])
    every = common.unit_points()
    fig = go.Figure(go.Scattergl(x=every["lon"], y=every["lat"], mode="markers", name="Đơn vị khác", showlegend=False,
                                 marker=dict(color="#d9d9d2", size=3), hoverinfo="skip"))
    why = common.estimated_why([True] * len(pts), pts["predecessors"])
    fig.add_trace(go.Scattergl(
        x=pts["lon"], y=pts["lat"], mode="markers", name=f"Tổng điểm — {common.ESTIMATED}",
        marker=dict(symbol="circle-open", size=9, line=dict(width=2), color=pts["total"].round(2),
                    colorscale="RdYlGn", cmin=50, cmax=100, colorbar=dict(title="Điểm", thickness=12)),
        text=pts["unit_name"], customdata=list(zip(pts["total"].round(2), why)),
        hovertemplate="%{text}<br>Tổng điểm %{customdata[0]:.2f}<br>%{customdata[1]}<extra></extra>"))
    if len(pts):
        pad = 0.3
        fig.update_xaxes(range=[pts["lon"].min() - pad, pts["lon"].max() + pad])
        fig.update_yaxes(range=[pts["lat"].min() - pad, pts["lat"].max() + pad])
    mid_lat = float(pts["lat"].mean()) if len(pts) else 16.0
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1 / max(0.2, math.cos(math.radians(mid_lat))))
    fig.update_layout(title=f"Vị trí các đơn vị mới — {common.ESTIMATED}", height=520, plot_bgcolor="#f7f7f4",
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.02))
    return fig


def map_view(period: str) -> str | None:
    """Before the merger (once a later period is on the new units) the reader chooses the old units
    as they were or their figures estimated onto the new units; None when there is no choice."""
    if not common.is_pre_merger(period) or all(common.is_pre_merger(p) for p in common.periods_with_data()):
        return None
    return st.segmented_control("Bản đồ", MAP_VIEWS, default=MAP_VIEWS[0], key="ov_map_view") or MAP_VIEWS[0]


def map_for(shown, fw, period: str, view: str | None) -> go.Figure:
    """The map of the period in the chosen view (``map_view``)."""
    if view in (None, MAP_VIEWS[0]):
        return map_chart(shown, fw)
    m = common.mapped_table(period)
    olds = set(shown["unit_code"])   # the filters pick old units: a new unit is shown when one of its old ones is
    keep = [bool(olds & set(str(c).split(", "))) for c in m["predecessor_codes"]]
    return estimated_map_chart(m[keep])


def movers_table(frame, period: str):
    view = frame.assign(
        # an old unit's old province (before the merger) is not among today's: its stored name then
        tinh=frame["province_code"].map(common.province_names()).fillna(frame["province_name"]),
        link=[common.profile_link(u, period) for u in frame["unit_code"]],
    )[["unit_name", "tinh", "total", "delta_total", "delta_rank", "link"]]
    view.columns = ["Đơn vị", "Tỉnh", "Tổng điểm", "± điểm", "± hạng", "Hồ sơ"]
    marks = common.estimated_marks(frame)
    if any(marks):  # a change across the merger is only shown with its mark
        view.insert(5, common.PREV_MARK_COLUMN, marks)
    common.table(view, column_config={
        "Tổng điểm": st.column_config.NumberColumn(format="%.2f"),
        "± điểm": st.column_config.NumberColumn(format="%+.2f"),
        "± hạng": st.column_config.NumberColumn(format="%+d"),
        common.PREV_MARK_COLUMN: st.column_config.TextColumn(help=common.ESTIMATED_HELP),
        "Hồ sơ": st.column_config.LinkColumn(display_text="Xem hồ sơ"),
    })


def trend_chart(shown, period: str) -> go.Figure | None:
    """Mean total of the shown units over the periods; before 1 July 2025 (seen from a period on the
    new units) the mean of their figures estimated from the old units, drawn hollow and dashed."""
    frames = common.history_frames(new_map=not common.is_pre_merger(period))
    tr = insights.mean_trend(frames, shown["unit_code"].tolist())
    if len(tr) < 2:
        return None
    fig = go.Figure(common.trend_trace(tr, name="Điểm bình quân", color="#b71c1c", text=True))
    fig.update_layout(title="Điểm bình quân qua các kỳ", height=320, margin=dict(l=10, r=10, t=50, b=30),
                      yaxis=dict(range=[0, 105], title="Điểm bình quân"), xaxis=dict(type="category"),
                      legend=dict(orientation="h", y=-0.2), separators=",.")
    return fig


@st.fragment
@common.guarded
def body(period: str) -> None:
    fw = common.framework(period)
    res = common.period_table(period)
    shown = common.filter_bar(res, "ov", choices=common.period_choices(period))
    if shown.empty:
        st.info("Không có đơn vị nào trong phạm vi đang lọc.")
        return
    view = map_view(period)
    # everything below is elements only, the same for everyone who filters the same units: replayed
    common.replayed("tong-quan", overview, period, view, frame=shown, fw=fw)


def overview(period: str, view: str | None, shown, fw) -> None:
    cards(shown, fw)
    left, right = st.columns([1, 1.3])
    with left:
        st.plotly_chart(tier_chart(shown, fw), width="stretch", key="ov_tiers")
    with right:
        st.plotly_chart(map_for(shown, fw, period, view), width="stretch", key="ov_map")
    if common.is_pre_merger(period):
        st.info(common.PRE_MERGER_NOTE, icon=":material/history:")
    fig = trend_chart(shown, period)
    if fig is not None:
        st.plotly_chart(fig, width="stretch", key="ov_trend")
        if any(common.ESTIMATED in (t.name or "") for t in fig.data):
            st.caption(f"Vòng rỗng, nét đứt: {common.ESTIMATED} — trước 01/07/2025 các đơn vị mới chưa tồn tại; "
                       "điểm của mỗi đơn vị mới là bình quân có trọng số điểm của các đơn vị cũ hợp thành.")
    up, down = insights.movers(shown, 10)
    st.subheader("Tiến bộ và giảm sút so với kỳ trước")
    if common.across_merger(period):
        st.caption(f"So với kỳ trước: {common.ESTIMATED} (cột *{common.PREV_MARK_COLUMN}*).")
    if up.empty and down.empty:
        st.caption("Chưa có kỳ trước để so sánh.")
        return
    a, b = st.columns(2)
    with a:
        st.markdown("**Tiến bộ nhiều nhất**")
        if len(up):
            movers_table(up, period)
        else:
            st.caption("Không có đơn vị nào tăng điểm.")
    with b:
        st.markdown("**Giảm nhiều nhất**")
        if len(down):
            movers_table(down, period)
        else:
            st.caption("Không có đơn vị nào giảm điểm.")


def main() -> None:
    period = common.page_period("Tổng quan", "Bức tranh chung của kỳ đánh giá: số đơn vị, xếp loại, điểm bình quân "
                                "và biến động", "ov_period", needs_results=True, empty="cho kỳ đánh giá này.")
    if not period:
        return
    body(period)


main()
