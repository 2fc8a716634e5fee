"""What every page uses, in one namespace (``from pages import common``; ``common.table``…).

The code lives by what it holds:

* pages/data.py — the connection, the one cache key (``data.cached``) and every cached read;
* pages/formatting.py — Vietnamese numbers, period names, reasons, user text made literal (no Streamlit);
* pages/widgets.py — the app-run guard, ``guarded``, tables, headers, the period selector, filters,
  the results table view;
* pages/charts.py — Plotly figures and their colours.

This module adds the menu (``PAGES``) and the session cookie's name, and re-exports the rest so
callers need one import.
"""

from __future__ import annotations

from pages.charts import TIER_COLORS, bar_top, freeze_long_lived_heap, tier_legend_order, trend_trace  # noqa: F401
from pages.data import (  # noqa: F401
    UNC_DRAWS,
    UNC_SEED,
    UNC_SPREAD,
    UNC_STATE,
    MissingDatabase,
    _connection,
    _period_breakdown,
    across_merger,
    actor,
    base_table,
    cache_key,
    cached,
    contributions,
    cycle,
    db,
    db_path,
    framework,
    history_frames,
    is_demo,
    mapped_table,
    models_summary,
    official,
    oidc_settings,
    open_run,
    pairwise_flip,
    period_breakdown,
    period_choices,
    period_table,
    period_unit_labels,
    periods,
    periods_with_data,
    predecessors,
    profile_by_id,
    province_names,
    published,
    rank_swing,
    ranking_choices,
    ranking_table,
    scores,
    successors_of,
    sync_unc_widgets,
    unc_settings,
    uncertainty,
    uncertainty_row,
    unit_breakdown,
    unit_labels,
    unit_models,
    unit_names,
    unit_points,
    unit_trend,
    version,
    write_version,
)
from pages.formatting import (  # noqa: F401
    ESTIMATED,
    ESTIMATED_HELP,
    MISSING,
    PRE_MERGER_NOTE,
    PREV_MARK_COLUMN,
    RANGE_LABEL,
    STABLE_LABEL,
    STABLE_MARK,
    estimated_marks,
    estimated_why,
    group_label,
    interval_texts,
    is_pre_merger,
    md,
    period_label,
    profile_link,
    reasons,
    stable_marks,
    vn,
    vn_cells,
    vn_int,
)
from pages.widgets import (  # noqa: F401
    APP_PATH,
    DEMO_BADGE,
    NO_DATA,
    PERIOD_LABEL,
    ROW_HEIGHT,
    TABLE_BORDER,
    app_run,
    cookie_script,
    cycle_notice,
    demo_badge,
    ensure_app,
    filter_bar,
    filter_multiselect,
    guard_uploads,
    guarded,
    header,
    log,
    new_error_id,
    no_data,
    page_period,
    period_select,
    ranking_view,
    replayed,
    results_view,
    safe_frame,
    table,
    table_height,
    tier_words,
    unc_note,
)

COOKIE = "danvan_session"

# url path → (file, title, icon, permission); the order is the menu order
PAGES = {
    "tong-quan": ("pages/tong-quan.py", "Tổng quan", ":material/dashboard:", "view"),
    "xep-hang": ("pages/xep-hang.py", "Xếp hạng", ":material/leaderboard:", "view"),
    "so-sanh": ("pages/so-sanh.py", "So sánh", ":material/compare_arrows:", "view"),
    "ho-so": ("pages/ho-so.py", "Hồ sơ đơn vị", ":material/account_balance:", "view"),
    "trong-so": ("pages/trong-so.py", "Trọng số", ":material/tune:", "weights"),
    "nhap-du-lieu": ("pages/nhap-du-lieu.py", "Nhập dữ liệu", ":material/upload_file:", "import"),
    "mo-hinh": ("pages/mo-hinh.py", "Mô hình", ":material/lightbulb:", "view"),
    "quan-tri": ("pages/quan-tri.py", "Quản trị", ":material/admin_panel_settings:", "users"),
    "khen-thuong": ("pages/khen-thuong.py", "Khen thưởng", ":material/military_tech:", "awards"),
    "bao-cao": ("pages/bao-cao.py", "Báo cáo", ":material/summarize:", "view"),
    "tu-danh-gia": ("pages/tu-danh-gia.py", "Hồ sơ tự đánh giá", ":material/assignment:", "dossier"),
    "tien-do": ("pages/tien-do.py", "Tiến độ nộp hồ sơ", ":material/pending_actions:", "progress"),
    "tham-dinh": ("pages/tham-dinh.py", "Thẩm định hồ sơ", ":material/fact_check:", "appraise"),
}


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages/ scan: show the app instead
    ensure_app()
