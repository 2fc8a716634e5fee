"""So sánh: 2–6 units side by side, or one unit against its block's average and its block's leader."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from danvan_scoring import insights
from pages import common

PALETTE = ["#b71c1c", "#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f"]
MODE_UNITS = "Chọn từ 2 đến 6 đơn vị"
MODE_BLOCK = "Một đơn vị với bình quân và đơn vị dẫn đầu khối"


def entities_for_units(res: pd.DataFrame, contrib: pd.DataFrame, codes: list[str], labels: dict) -> list[dict]:
    out = []
    for u in codes:
        row = res[res["unit_code"] == u].iloc[0]
        out.append({"name": labels[u], "short": row["unit_name"], "row": row, "criteria": contrib.loc[u],
                    "units": [u]})
    return out


def entities_for_block(res: pd.DataFrame, contrib: pd.DataFrame, unit: str, labels: dict) -> list[dict]:
    row = res[res["unit_code"] == unit].iloc[0]
    block = row["block"]
    peers = insights.block_peers(res, unit)
    ok = peers[peers["eligible"].astype(bool)]
    members = (ok if len(ok) else peers)["unit_code"].tolist()
    avg = insights.block_average(res, block)
    out = [{"name": labels[unit], "short": row["unit_name"], "row": row, "criteria": contrib.loc[unit],
            "units": [unit]}]
    out.append({"name": f"Bình quân {row['block_name']}", "short": "Bình quân khối", "row": avg,
                "criteria": contrib.loc[[m for m in members if m in contrib.index]].mean(), "units": members,
                "average": True})
    peers_all = res[res["block"] == block]
    crowned = peers_all[peers_all["block_leader"].fillna(False).astype(bool)]   # award-eligible only (issue 12)
    tied = peers_all[peers_all["leader_tie"].fillna(False).astype(bool)]
    leader = crowned.iloc[0] if len(crowned) else None
    if leader is not None and leader["unit_code"] != unit:
        out.append({"name": f"Dẫn đầu khối: {labels[leader['unit_code']]}", "short": leader["unit_name"],
                    "row": leader, "criteria": contrib.loc[leader["unit_code"]], "units": [leader["unit_code"]]})
    elif leader is not None:
        st.success(f"{common.md(row['unit_name'])} đang dẫn đầu {common.md(row['block_name'])}.",
                   icon=":material/emoji_events:")
    elif len(tied):
        names = ", ".join(common.md(n) for n in tied["unit_name"])
        st.info(f"Chưa có đơn vị dẫn đầu {common.md(row['block_name'])}: {names} bằng điểm; Hội đồng Thi đua - "
                "Khen thưởng quyết định.", icon=":material/balance:")
    elif not row.get("award_eligible", True) and isinstance(row.get("award_reason"), str):
        st.caption(f"{common.md(row['unit_name'])} không được xét dẫn đầu khối: {common.md(row['award_reason'])}.")
    return out


def radar(entities, fw, gmax) -> go.Figure:
    groups = [g.code for g in fw.scored_groups]
    theta = [f"Nhóm {g}" for g in groups]
    names = [fw.group(g).name for g in groups]
    fig = go.Figure()
    lowest = 100.0
    for i, e in enumerate(entities):
        r = [100 * float(e["row"][f"group_{g}"]) / gmax[g] if gmax[g] else 0 for g in groups]
        lowest = min(lowest, *r)
        fig.add_trace(go.Scatterpolar(r=r + r[:1], theta=theta + theta[:1], name=e["short"], fill="toself",
                                      opacity=0.5, line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                                      customdata=names + names[:1],
                                      hovertemplate="%{theta} — %{customdata}: %{r:.1f}% số điểm của nhóm"
                                                    "<extra>" + e["short"] + "</extra>"))
    floor = max(0.0, 10 * (int(lowest) // 10) - 10)
    fig.update_layout(title="Mức đạt theo nhóm tiêu chí (% số điểm của nhóm)", height=460,
                      polar=dict(radialaxis=dict(range=[floor, 100], ticksuffix="%")),
                      margin=dict(l=40, r=40, t=60, b=30), legend=dict(orientation="h", y=-0.1), separators=",.")
    return fig


def grouped_bars(entities, fw, gmax) -> go.Figure:
    groups = [g.code for g in fw.scored_groups]
    fig = go.Figure()
    for i, e in enumerate(entities):
        fig.add_trace(go.Bar(name=e["short"], x=[f"Nhóm {g}" for g in groups],
                             y=[round(float(e["row"][f"group_{g}"]), 2) for g in groups],
                             marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate="%{x}: %{y:.2f} điểm<extra>" + e["short"] + "</extra>"))
    fig.update_layout(barmode="group", title="Điểm từng nhóm", height=400, yaxis_title="Điểm",
                      margin=dict(l=10, r=10, t=50, b=30), legend=dict(orientation="h", y=-0.15), separators=",.")
    return fig


def criteria_table(entities, fw) -> None:
    cols = {e["short"] if sum(x["short"] == e["short"] for x in entities) == 1 else e["name"]: e["criteria"]
            for e in entities}
    table = insights.compare_criteria(cols, fw)
    names = list(cols)
    view = table.rename(columns={"criterion_code": "Mã", "group_code": "Nhóm", "criterion_name": "Tiêu chí",
                                 "spread": "Chênh lệch cao − thấp", "best": "Cao nhất"})

    def mark(row):
        vals = row[names].astype(float)
        styles = [""] * len(row)
        if vals.max() - vals.min() > 0.005:
            for j, c in enumerate(row.index):
                if c in names and vals[c] == vals.max():
                    styles[j] = "background-color: #d9f0d3; font-weight: 600"
                elif c in names and vals[c] == vals.min():
                    styles[j] = "background-color: #fde0dd"
        return styles

    styled = view.style.apply(mark, axis=1).format({n: "{:.2f}" for n in names + ["Chênh lệch cao − thấp"]})
    common.table(styled, max_height=900,
                 column_config={"Tiêu chí": st.column_config.TextColumn(width="large")})
    st.caption("Điểm trong tổng điểm (theo bộ trọng số chính thức). Nền xanh: cao nhất; nền hồng: thấp nhất trên "
               "tiêu chí đó.")


def trend_chart(entities, block: str | None, period: str) -> go.Figure:
    frames = {p: common.base_table(p) for p in common.periods_with_data()}
    # seen from a period on the new units, their years before the merger are estimated from the old ones
    history = common.history_frames(new_map=not common.is_pre_merger(period))
    fig = go.Figure()
    for i, e in enumerate(entities):
        if e.get("average"):
            ys = [insights.block_average(frames[p], block)["total"] if block in set(frames[p]["block"]) else None
                  for p in frames]
            xs = list(frames)
        else:
            # a new unit's years before the merger: estimated from its old units, drawn hollow and dashed
            tr = insights.trend_from(history, e["units"])
            fig.add_traces(common.trend_trace(tr, name=e["short"], color=PALETTE[i % len(PALETTE)]))
            continue
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=e["short"],
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=3,
                                           dash="dot" if e.get("average") else "solid")))
    fig.update_layout(title="Tổng điểm qua các kỳ", height=360, yaxis=dict(title="Tổng điểm"),
                      xaxis=dict(type="category", title="Kỳ đánh giá"), margin=dict(l=10, r=10, t=50, b=30),
                      legend=dict(orientation="h", y=-0.2), separators=",.")
    return fig


def flip_section(period: str, res: pd.DataFrame, labels: dict, codes: list[str]) -> None:
    """For two of the compared units: the smallest change of each single group weight that puts A above B."""
    st.subheader("Đổi trọng số bao nhiêu thì thứ tự đổi?")
    info = res.set_index("unit_code")
    ranked = [u for u in dict.fromkeys(codes) if u in info.index and pd.notna(info.at[u, "rank"])]
    if len(ranked) < 2:
        st.caption("Cần ít nhất 2 đơn vị đủ điều kiện xếp loại để xem trọng số nhóm nào làm đổi thứ tự.")
        return
    # default: A is the lower-ranked of the first two, B the higher-ranked
    first_two = sorted(ranked[:2], key=lambda u: (info.at[u, "rank"], u))
    if st.session_state.get("cmp_flip_a") not in ranked:
        st.session_state["cmp_flip_a"] = first_two[1]
    c1, c2 = st.columns(2)
    a = c1.selectbox("Đơn vị A (cần vượt lên)", ranked, key="cmp_flip_a", format_func=lambda u: labels.get(u, u))
    others = [u for u in ranked if u != a]
    if st.session_state.get("cmp_flip_b") not in others:
        st.session_state["cmp_flip_b"] = first_two[0] if first_two[0] in others else others[0]
    b = c2.selectbox("Đơn vị B (đang được so)", others, key="cmp_flip_b", format_func=lambda u: labels.get(u, u))
    name_a, name_b = info.at[a, "unit_name"], info.at[b, "unit_name"]
    if name_a == name_b:
        name_a, name_b = f"{name_a} ({a})", f"{name_b} ({b})"
    flips = common.pairwise_flip(period, a, b)
    sentences = [insights.flip_sentence(r, name_a, name_b) for r in flips.to_dict("records")]
    ra, rb = int(info.at[a, "rank"]), int(info.at[b, "rank"])
    st.markdown(f"Hiện nay **{common.md(name_a)}** đứng hạng {ra}, **{common.md(name_b)}** đứng hạng {rb}. "
                "Bảng dưới cho biết, với "
                "từng nhóm, phải nhân riêng trọng số nhóm đó (các nhóm khác giữ nguyên) bao nhiêu lần thì "
                f"{common.md(name_a)} xếp trên {common.md(name_b)}; thay đổi càng nhỏ thì thứ tự giữa hai đơn vị càng dễ đảo.")
    if flips["possible"].any():
        st.info(sentences[0], icon=":material/swap_vert:")
    view = pd.DataFrame({
        "Nhóm": "Nhóm " + flips["group"] + " — " + flips["group_name"].fillna(""),
        "Trọng số hiện tại": flips["weight"], "Hệ số cần nhân": flips["factor"], "Trọng số mới": flips["new_weight"],
        "Thay đổi (%)": flips["change_pct"], "Tổng điểm A sau đổi": flips["total_a"],
        "Tổng điểm B sau đổi": flips["total_b"], "Giải thích": sentences,
    })
    common.table(view, key="cmp_flip_table", column_config={
        "Trọng số hiện tại": st.column_config.NumberColumn(format="%.2f"),
        "Hệ số cần nhân": st.column_config.NumberColumn(format="×%.2f", help="Trống: chỉ đổi nhóm này thì không được"),
        "Trọng số mới": st.column_config.NumberColumn(format="%.2f"),
        "Thay đổi (%)": st.column_config.NumberColumn(format="%+.1f%%"),
        "Tổng điểm A sau đổi": st.column_config.NumberColumn(format="%.2f"),
        "Tổng điểm B sau đổi": st.column_config.NumberColumn(format="%.2f"),
        "Giải thích": st.column_config.TextColumn(width="large"),
    })


@common.guarded
def body(period: str) -> None:
    fw = common.framework(period)
    res = common.period_table(period)
    contrib = common.contributions(period)
    labels = common.unit_labels(res)
    mode = st.radio("Cách so sánh", [MODE_UNITS, MODE_BLOCK], horizontal=True, key="cmp_mode")
    codes = res["unit_code"].tolist()
    if "cmp_units" in st.session_state:  # a unit not scored in this period cannot stay selected
        st.session_state["cmp_units"] = [u for u in st.session_state["cmp_units"] if u in labels]
    if st.session_state.get("cmp_unit") not in labels:
        st.session_state.pop("cmp_unit", None)
    block = None
    if mode == MODE_UNITS:
        kwargs = {}
        if "cmp_units" not in st.session_state:
            kwargs["default"] = [u for u in st.query_params.get_all("units") if u in labels][:6] or codes[:3]
        chosen = st.multiselect("Đơn vị so sánh", codes, max_selections=6, key="cmp_units", **kwargs,
                                format_func=lambda u: labels.get(u, u), placeholder="Gõ tên hoặc mã đơn vị",
                                select_all=False)
        if len(chosen) < 2:
            st.info("Hãy chọn ít nhất 2 đơn vị (tối đa 6).", icon=":material/info:")
            return
        entities = entities_for_units(res, contrib, chosen, labels)
    else:
        unit = st.selectbox("Đơn vị", codes, key="cmp_unit", format_func=lambda u: labels.get(u, u))
        block = res.loc[res["unit_code"] == unit, "block"].iloc[0]
        entities = entities_for_block(res, contrib, unit, labels)

    gmax = insights.group_max(fw, common.official(period))
    summary = pd.DataFrame({
        "": [e["name"] for e in entities],
        "Tổng điểm": [round(float(e["row"]["total"]), 2) for e in entities],
        "Hạng": [e["row"].get("rank") if not e.get("average") else None for e in entities],
        "Xếp loại": [e["row"].get("tier") if not e.get("average") else "" for e in entities],
        "Hồ sơ": [common.profile_link(e["units"][0], period) if not e.get("average") else None for e in entities],
    })
    common.table(summary, column_config={
        "Tổng điểm": st.column_config.NumberColumn(format="%.2f"),
        "Hạng": st.column_config.NumberColumn(format="%d"),
        "Hồ sơ": st.column_config.LinkColumn(display_text="Xem hồ sơ")})
    a, b = st.columns(2)
    with a:
        st.plotly_chart(radar(entities, fw, gmax), width="stretch", key="cmp_radar")
    with b:
        st.plotly_chart(grouped_bars(entities, fw, gmax), width="stretch", key="cmp_bars")
    st.caption(" · ".join(f"Nhóm {g.code}: {g.name}" for g in fw.scored_groups))
    common.guarded(flip_section)(period, res, labels, [e["units"][0] for e in entities if not e.get("average")])
    st.subheader("So sánh từng tiêu chí")
    criteria_table(entities, fw)
    st.subheader("Xu hướng")
    st.plotly_chart(trend_chart(entities, block, period), width="stretch", key="cmp_trend")


def main() -> None:
    period = common.page_period("So sánh", "Đặt các đơn vị cạnh nhau, hoặc so một đơn vị với bình quân và đơn vị "
                                "dẫn đầu khối", "cmp_period", needs_results=True, empty="để so sánh.")
    if not period:
        return
    body(period)


main()
