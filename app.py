"""Bảng điều khiển chấm điểm "Dân vận khéo" — minimal first page (the full dashboard follows)."""

import os
from pathlib import Path

import streamlit as st

from danvan_scoring import store
from danvan_scoring.cli import ensure_database
from danvan_scoring.paths import default_db_path
from danvan_scoring.results import period_results

st.set_page_config(page_title="Chấm điểm Dân vận khéo", layout="wide")


@st.cache_resource
def _connection(path: str):
    ensure_database(Path(path))
    con = store.connect(path)
    store.migrate(con)
    return con


con = _connection(str(os.environ.get("DANVAN_DB") or default_db_path())).cursor()
st.title("Xếp hạng công tác dân vận")
if store.is_demo(con):
    st.warning("Dữ liệu minh họa (tổng hợp ngẫu nhiên) — không phải kết quả thật của đơn vị nào.")
periods = store.periods(con)
period = st.selectbox("Kỳ đánh giá", periods, index=len(periods) - 1)
res = period_results(con, period)
if res.empty:
    st.info("Chưa có dữ liệu chấm điểm cho kỳ này.")
else:
    st.dataframe(res[["rank", "unit_name", "province_name", "total", "tier", "block_name", "block_rank"]],
                 hide_index=True)
