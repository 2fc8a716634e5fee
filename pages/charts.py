"""Charts of the dashboard (Plotly figures), their colours, and the collector set-up Plotly needs.

Figures are built from frames the pages already hold; no data is read here except the province
names a chart labels its bars with.
"""

from __future__ import annotations

import gc
import threading

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from danvan_scoring import insights
from danvan_scoring.criteria import Framework
from pages import data
from pages.formatting import ESTIMATED, STABLE_MARK, estimated_why, interval_texts, vn

TIER_COLORS = {
    "xuat_sac": "#1b7f3b",
    "tot": "#5aae61",
    "kha": "#3b7dd8",
    "trung_binh": "#f0a030",
    "yeu": "#d7301f",
    # Quy định 366-QĐ/TW (framework v3)
    "hoan_thanh_xuat_sac": "#1b7f3b",
    "hoan_thanh_tot": "#5aae61",
    "hoan_thanh": "#f0a030",
    "khong_hoan_thanh": "#d7301f",
    None: "#9e9e9e",
}

_FROZEN = threading.Event()


def freeze_long_lived_heap() -> None:
    """Called by app.py on every run; does its work once per process. Moves the objects that live
    as long as the server process out of the collector's sight.

    Streamlit runs a full ``gc.collect()`` after every script run unless ``runner.postScriptGC`` is
    off (it is, in .streamlit/config.toml), and Python's own collector still makes full collections.
    With Streamlit, pandas, Plotly and DuckDB loaded a full collection walks some 130,000
    module-level objects — classes, functions, Plotly's validators — and took about 80 ms of every
    click on Xếp hạng. ``gc.freeze`` (made for this) puts the objects alive now into a permanent
    generation; whatever a run creates afterwards is still collected. Plotly builds
    its trace classes and validators on first use, so one small figure of each kind the pages draw
    is built first."""
    if _FROZEN.is_set():
        return
    _FROZEN.set()
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Bar(x=[1], y=["a"], text=["1"], marker_color=["#000"], customdata=[["1"]]), row=1, col=1)
    fig.add_trace(go.Scatter(x=[1], y=["a"], mode="markers", error_x=dict(array=[1], arrayminus=[0])), row=1, col=2)
    go.Figure([go.Scattergl(x=[1], y=[1]), go.Scatterpolar(r=[1], theta=["a"], fill="toself")]).to_dict()
    fig.update_layout(title="x", separators=",.").to_dict()
    import pyarrow  # noqa: F401  (st.dataframe imports it on first use)
    gc.collect()
    gc.freeze()


def bar_top(res: pd.DataFrame, n: int, title: str) -> go.Figure:
    """Top-n bars of the total; with the interval columns, a second panel beside it shows each
    unit's rank with error bars from its 5th to its 95th percentile rank over the weight draws.

    The figure is kept per drawn rows and title (building a Plotly figure with its validation costs
    about 20 ms), so a rerun that leaves the leaders unchanged does not rebuild it."""
    cols = [c for c in ("unit_code", "unit_name", "province_code", "rank", "total", "tier", "tier_code",
                        "rank_p05", "rank_p95", "stable") if c in res.columns]
    top = res.loc[res["rank"].notna(), cols].head(n).iloc[::-1]
    return _bar_top(top, title, data.province_names())


@st.cache_resource(show_spinner=False, max_entries=64)
def _bar_top(top: pd.DataFrame, title: str, provinces: dict[str, str]) -> go.Figure:
    names = [f"{r.unit_name} ({provinces.get(r.province_code, '')})" for r in top.itertuples()]
    intervals = "rank_p05" in top.columns and top["rank_p05"].notna().any()
    span = interval_texts(top) if intervals else [None] * len(top)
    bars = go.Bar(
        x=top["total"].round(2), y=names, orientation="h", name="Tổng điểm", showlegend=False,
        marker_color=[TIER_COLORS.get(t, TIER_COLORS[None]) for t in top["tier_code"]],
        text=[vn(t) for t in top["total"]], textposition="outside", cliponaxis=False,
        customdata=list(zip(top["rank"].astype(str), top["tier"], [x or "—" for x in span])),
        hovertemplate="%{y}<br>Hạng %{customdata[0]} (khoảng %{customdata[2]}) · %{customdata[1]}"
                      "<br>Tổng điểm %{x:.2f}<extra></extra>")
    height = max(260, 26 * len(top) + 90)
    if not intervals:
        fig = go.Figure(bars)
        fig.update_layout(title=title, height=height, margin=dict(l=10, r=40, t=50, b=30),
                          xaxis=dict(range=[0, 105], title="Tổng điểm"), yaxis=dict(automargin=True),
                          separators=",.")
        return fig
    from plotly.subplots import make_subplots

    rank = top["rank"].astype(float)
    lo = top["rank_p05"].astype(float)
    hi = top["rank_p95"].astype(float)
    stable = top["stable"].fillna(False).astype(bool)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.68, 0.32], horizontal_spacing=0.03,
                        subplot_titles=("Tổng điểm", "Hạng và hạng dao động"))
    fig.add_trace(bars, row=1, col=1)
    fig.add_trace(go.Scatter(
        x=rank, y=names, mode="markers", name="Hạng", showlegend=False,
        marker=dict(size=9, color=["#1b7f3b" if s else "#d7301f" for s in stable],
                    symbol=["circle" if s else "diamond" for s in stable]),
        error_x=dict(type="data", symmetric=False, array=(hi - rank).clip(lower=0),
                     arrayminus=(rank - lo).clip(lower=0), color="#616161", thickness=1.5, width=4),
        customdata=list(zip(top["rank"].astype(int).astype(str), span, [STABLE_MARK[s] for s in stable])),
        hovertemplate="%{y}<br>Hạng %{customdata[0]}; dao động %{customdata[1]} · %{customdata[2]}"
                      "<extra></extra>"), row=1, col=2)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=20, t=70, b=30), separators=",.",
                      yaxis=dict(automargin=True))
    fig.update_xaxes(range=[0, 105], title_text="Tổng điểm", row=1, col=1)
    fig.update_xaxes(range=[0, float(hi.max()) + 1], title_text="Hạng (càng sang trái càng cao)", row=1, col=2)
    return fig


def trend_trace(tr: pd.DataFrame, *, name: str, color: str, text: bool = False, dash: str = "solid") -> list:
    """Plotly traces of one trend (period, total, optional estimated / predecessors): its own figures
    as a line with filled markers; the figures estimated from the old units with hollow markers on a
    dashed segment that runs into the first own point, their hover saying why."""
    tr = tr.reset_index(drop=True)
    est = tr["estimated"].fillna(False).astype(bool) if "estimated" in tr.columns else pd.Series(False, index=tr.index)
    n_pred = tr["predecessors"] if "predecessors" in tr.columns else pd.Series(0, index=tr.index)
    why = estimated_why(est, n_pred)
    y = tr["total"].astype(float).round(2)
    x = tr["period"].tolist()
    traces = []
    if est.any():
        upto = min(int(est[est].index.max()) + 1, len(tr) - 1)
        traces.append(go.Scatter(
            x=x[:upto + 1], y=y[:upto + 1].tolist(), mode="lines", name=f"{name} ({ESTIMATED})", showlegend=False,
            line=dict(color=color, width=2, dash="dash"), hoverinfo="skip"))
        traces.append(go.Scatter(
            x=[v for v, e in zip(x, est) if e], y=y[est].tolist(), mode="markers+text" if text else "markers",
            name=f"{name} — {ESTIMATED}", text=[vn(t) for t in y[est]] if text else None, textposition="top center",
            marker=dict(symbol="circle-open", size=11, color=color, line=dict(width=2, color=color)),
            customdata=[w for w, e in zip(why, est) if e],
            hovertemplate="%{x}: %{y:.2f} điểm<br>%{customdata}<extra>" + name + "</extra>"))
    own = ~est
    if own.any():
        first = int(own[own].index.min())
        traces.append(go.Scatter(
            x=x[first:], y=y[first:].tolist(), mode="lines+markers+text" if text else "lines+markers",
            name=name, text=[vn(t) for t in y[first:]] if text else None, textposition="top center",
            line=dict(color=color, width=3, dash=dash), marker=dict(size=9, color=color),
            hovertemplate="%{x}: %{y:.2f} điểm<extra>" + name + "</extra>"))
    return traces


def tier_legend_order(fw: Framework) -> list[tuple[str | None, str]]:
    return [(t.code, t.name) for t in fw.tiers] + [(None, insights.NOT_ELIGIBLE_LABEL)]


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages/ scan: show the app instead
    from pages.widgets import ensure_app

    ensure_app()
