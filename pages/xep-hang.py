"""Xếp hạng: every unit of the period with rank, block rank, total, tier, sub-scores, change, gap."""

from __future__ import annotations

import streamlit as st

from danvan_scoring import export
from pages import common


@st.fragment
@common.guarded
def ranking_body(period: str) -> None:
    fw = common.framework(period)
    res = common.period_table(period)
    shown = common.filter_bar(res, "rank", search=True, tier=True, unit_type=True, fw=fw)
    view, config = common.results_view(shown, fw, period)

    ranked = int(shown["rank"].notna().sum())
    st.markdown(f"**{common.vn_int(len(shown))}** đơn vị đang hiển thị (trong {common.vn_int(len(res))}), "
                f"**{common.vn_int(ranked)}** được xếp hạng · bộ trọng số *{res['profile'].iloc[0]}*")
    st.dataframe(view, column_config=config, hide_index=True, width="stretch", height=520, key="ranking_table")

    c1, c2, _ = st.columns([1, 1, 3])
    stem = f"xep-hang-{period}"
    c1.download_button("Tải CSV", data=lambda: export.to_csv_bytes(view), file_name=f"{stem}.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key="dl_csv")
    c2.download_button("Tải Excel (XLSX)", data=lambda: export.to_xlsx_bytes(view, sheet=f"Xếp hạng {period}"),
                       file_name=f"{stem}.xlsx", icon=":material/download:", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")

    st.subheader("Biểu đồ các đơn vị dẫn đầu")
    if ranked == 0:
        st.info("Không có đơn vị nào được xếp hạng trong phạm vi đang lọc.")
        return
    n = st.slider("Số đơn vị trên biểu đồ", 5, 50, 20, step=5, key="rank_topn")
    st.plotly_chart(common.bar_top(shown, n, fw, f"{min(n, ranked)} đơn vị điểm cao nhất — {common.period_label(period)}"),
                    width="stretch", key="rank_chart")


def main() -> None:
    common.header("Xếp hạng", "Tổng điểm thẩm định, hạng toàn bộ và hạng trong khối thi đua")
    period = common.period_select("rank_period")
    if period is None or common.period_table(period).empty:
        common.no_data("cho kỳ đánh giá này.")
        return
    ranking_body(period)


main()
