"""Xếp hạng: every unit of the period with rank, block rank, total, tier, sub-scores, change, gap —
and how solid each rank is (its 90 % interval when the weights vary, a stable/unstable mark).

Once the period is published the page shows the frozen published table (which profile, when,
by whom); a toggle shows the live table when the official profile or the data changed since.
"""

from __future__ import annotations

import streamlit as st

from danvan_scoring import export, rubric
from danvan_scoring.frames import isin
from danvan_scoring.weights import WeightProfile
from pages import common

NO_FILTER = "__none__"
TAB_TABLE = "Bảng xếp hạng"
TAB_CHART = "Biểu đồ các đơn vị dẫn đầu"


def model_gap_filter(shown, period: str, container):
    """Units with no (active) model in the chosen field, from the model registry."""
    fl = rubric.default_fields()
    field = container.selectbox("Chưa có mô hình ở lĩnh vực", [NO_FILTER, *fl.codes], key="rank_nomodel",
                                format_func=lambda f: "(không lọc)" if f == NO_FILTER else fl.labels.get(f, f),
                                help="Chỉ hiện các đơn vị chưa có mô hình, điển hình “Dân vận khéo” nào "
                                     "(đang thực hiện hoặc đã công nhận) ở lĩnh vực này")
    if field == NO_FILTER:
        return shown
    summary = common.models_summary(period)
    col = f"n_{field}"
    have = set(summary.loc[summary[col].fillna(0) > 0, "unit_code"]) if col in summary.columns else set()
    return shown[~isin(shown["unit_code"], have)]


def uncertainty_controls() -> None:
    draws, spread = common.unc_settings()
    with st.expander("Tùy chỉnh cách thử hạng khi trọng số thay đổi"):
        st.caption("Hội đồng hoặc lãnh đạo có thể đổi số lần thử và biên độ thay đổi trọng số; kết quả được tính một "
                   "lần cho mỗi lựa chọn rồi giữ lại. Nhiều lần thử hơn cho hạng dao động chính xác hơn nhưng tính lâu hơn.")
        c1, c2 = st.columns(2)
        c1.number_input("Số lần thử", min_value=100, max_value=10_000, step=100, value=draws, key="unc_draws",
                        help="Số lần chọn ngẫu nhiên bộ trọng số rồi xếp hạng lại (mặc định 1.000)")
        c2.slider("Biên độ thay đổi trọng số (±%)", min_value=0, max_value=50, step=5, value=int(round(100 * spread)),
                  key="unc_spread", help="Mỗi trọng số nhóm và tiêu chí được tăng hoặc giảm ngẫu nhiên trong khoảng "
                                         "này (mặc định ±25%)")


@st.fragment
@common.guarded
def ranking_body(period: str, source: str, profile_json: str) -> None:
    common.sync_unc_widgets()
    fw = common.framework(period)
    profile = WeightProfile.model_validate_json(profile_json)
    res = common.ranking_table(period, source, profile)
    shown = common.filter_bar(res, "rank", search=True, tier=True, unit_type=True, fw=fw,
                              choices=common.ranking_choices(period, source, profile))
    c1, c2, _ = st.columns([1.2, 1.2, 2.2])
    shown = model_gap_filter(shown, period, c1)
    if c2.toggle("Chỉ đơn vị có hạng dễ thay đổi", key="rank_unstable",
                 help="Các đơn vị mà chỉ cần đổi trọng số một chút thứ hạng đã khác nhiều"):
        shown = shown[shown["stable"].eq(False)]

    ranked = int(shown["rank"].notna().sum())
    merger_note(period, res)
    st.markdown(f"**{common.vn_int(len(shown))}** đơn vị đang hiển thị (trong {common.vn_int(len(res))}), "
                f"**{common.vn_int(ranked)}** được xếp hạng · bộ trọng số *{res['profile'].iloc[0]}*")
    # lazy tabs: only the open view is computed and drawn, so a filter change redraws the table
    # *or* the chart, not both (the Plotly chart alone costs about 50 ms in the browser)
    table_tab, chart_tab = st.tabs([TAB_TABLE, TAB_CHART], key="rank_view", on_change="rerun")
    if table_tab.open:
        with table_tab:
            ranking_grid(shown, ranked, period, source, profile)
    if chart_tab.open:
        with chart_tab:
            ranking_chart(shown, ranked, period)
    uncertainty_controls()


def merger_note(period: str, res) -> None:
    """Across the 1 July 2025 merger: which units the table holds, and what the change compares with."""
    if common.is_pre_merger(period):
        st.info(common.PRE_MERGER_NOTE, icon=":material/history:")
    elif "prev_estimated" in res.columns and res["prev_estimated"].fillna(False).astype(bool).any():
        st.caption(f"**± điểm, ± hạng so với kỳ trước: {common.ESTIMATED}** (cột *{common.PREV_MARK_COLUMN}*). "
                   + common.ESTIMATED_HELP + ".")


def ranking_grid(shown, ranked: int, period: str, source: str, profile: WeightProfile) -> None:
    view, config, arrow = common.ranking_view(period, source, profile, shown.index)
    common.table(arrow, column_config=config, max_height=520, key="ranking_table", neutralised=True)
    unstable = int(shown["stable"].eq(False).sum())
    st.caption(f"**{common.STABLE_LABEL}:** {common.vn_int(ranked - unstable)} trong {common.vn_int(ranked)} đơn vị "
               f"được xếp hạng đang hiển thị có hạng ổn định, {common.vn_int(unstable)} dễ thay đổi. {common.unc_note()}")
    c1, c2, _ = st.columns([1, 1, 3])
    stem = f"xep-hang-{period}"
    c1.download_button("Tải CSV", data=lambda: export.to_csv_bytes(view.loc[shown.index]), file_name=f"{stem}.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key="dl_csv")
    c2.download_button("Tải Excel (XLSX)", data=lambda: export.to_xlsx_bytes(view.loc[shown.index], sheet=f"Xếp hạng {period}"),
                       file_name=f"{stem}.xlsx", icon=":material/download:", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")


def ranking_chart(shown, ranked: int, period: str) -> None:
    if ranked == 0:
        st.info("Không có đơn vị nào được xếp hạng trong phạm vi đang lọc.")
        return
    n = st.slider("Số đơn vị trên biểu đồ", 5, 50, 20, step=5, key="rank_topn")
    st.plotly_chart(common.bar_top(shown, n, f"{min(n, ranked)} đơn vị điểm cao nhất — {common.period_label(period)}"),
                    width="stretch", key="rank_chart")
    st.caption("Bên phải: hạng của mỗi đơn vị (chấm) và hạng dao động khi trọng số thay đổi (vạch ngang); "
               "chấm xanh là hạng ổn định, chấm đỏ hình thoi là hạng dễ thay đổi.")


def source_banner(period: str) -> tuple[str, WeightProfile]:
    """Which table the page shows (published or live) and under which profile; says so on the page."""
    table, info = common.published(period)
    official = common.official(period)
    if table is None:
        st.info(info["message"], icon=":material/pending:")
        return "live", official
    st.success(info["message"], icon=":material/verified:")
    if info.get("official_changed") or info.get("live_differs"):
        live = st.toggle("Xem bảng tạm tính theo bộ trọng số và dữ liệu hiện tại", key="rank_live",
                         help="Bảng đã công bố không thay đổi; bảng tạm tính chỉ để tham khảo")
        if live:
            st.warning(f"Đang xem **bảng tạm tính** theo bộ trọng số chính thức hiện tại "
                       f"*{common.md(official.label)}* và dữ liệu "
                       "mới nhất — không phải kết quả đã công bố.", icon=":material/visibility:")
            return "live", official
    return "published", common.profile_by_id(int(info["profile_id"]))


@common.guarded
def main() -> None:
    period = common.page_period("Xếp hạng", "Tổng điểm thẩm định, hạng toàn bộ và hạng trong khối thi đua",
                                "rank_period", needs_results=True, empty="cho kỳ đánh giá này.")
    if not period:
        return
    source, profile = source_banner(period)
    ranking_body(period, source, profile.model_dump_json())


main()
