"""Across the 2025 merger in a real browser: a new unit formed from three old ones shows its
predecessors and a history whose years before 1 July 2025 are hollow points on a dashed line,
the hover saying why. Screenshot: test-artifacts/browser/merger-profile-history.png."""

from __future__ import annotations

import st_harness as h

from danvan_scoring import crosswalk, store

MARK = crosswalk.ESTIMATED_MARK


def _three_into_one(db) -> tuple[str, str, list[str]]:
    con = store.connect(db, read_only=True)   # the server holds its own copy
    try:
        code, olds = con.execute(
            "SELECT c.unit_code, list(c.legacy_code ORDER BY c.legacy_code) FROM crosswalk c "
            "JOIN units u USING (unit_code) WHERE u.province_code IN ('42', '91') GROUP BY c.unit_code "
            "HAVING count(*) = 3 AND bool_and(c.share_method = 'whole') ORDER BY c.unit_code LIMIT 1").fetchone()
        name = con.execute("SELECT name FROM units WHERE unit_code = ?", [code]).fetchone()[0]
    finally:
        con.close()
    return code, name, olds


def test_profile_history_marks_the_years_before_the_merger(app_server, page, demo_db_file):
    code, name, olds = _three_into_one(demo_db_file)
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    h.goto(page, f"{app_server.url}/ho-so?unit={code}&period=2025")
    h.wait_ready(page)
    h.assert_no_exception(page, "profile")
    text = h.main_text(page)
    assert name in text and "Các đơn vị cũ hợp thành (trước 01/07/2025)" in text, text[:600]
    assert f"± điểm, ± bậc so với kỳ trước: {MARK}" in text, "the change since 2024 carries the mark, in full"
    # the profile's tabs are lazy: opening one reruns the script, which draws it
    h.after_rerun(page, lambda: page.get_by_role("tab", name="Lịch sử").click())
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="Tổng điểm qua các kỳ").first
    chart.wait_for()
    chart.scroll_into_view_if_needed()
    legend = chart.locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")   # SVG: no innerText
    assert any(MARK in t for t in legend), legend
    # the estimated trace's points: hover the 2024 one and read why
    points = chart.locator(".scatterlayer .trace").filter(has=page.locator("path.point"))
    hollow = None
    for i in range(points.count()):
        pts = points.nth(i).locator("path.point")
        style = pts.first.get_attribute("style") or ""
        if "fill-opacity: 0" in style or "fill: none" in style or "rgba(0, 0, 0, 0)" in style:
            hollow = pts
    assert hollow is not None and hollow.count() == 2, "two hollow points: 2023 and 2024"
    box = hollow.nth(1).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    hover = chart.locator(".hoverlayer")
    page.wait_for_function("(el) => el.textContent.length > 0", arg=hover.element_handle(), timeout=5_000)
    said = hover.text_content() or ""   # SVG text: no innerText
    assert MARK in said and "3 đơn vị cũ" in said, said
    h.screenshot(page, "merger-profile-history")
    assert not page.console_errors, f"JavaScript errors: {page.console_errors}"


def _chart(page, title: str):
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text=title).first
    chart.wait_for()
    chart.scroll_into_view_if_needed()
    return chart


def test_overview_trend_and_map_mark_the_estimated_figures(app_server, page):
    """2025: the mean trend's 2023–2024 points are hollow, named with the mark; 2024 seen on the new
    units: the map's title and legend say the figures are estimated. Screenshots:
    merger-overview-2025.png, merger-overview-2024-new-map.png."""
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    h.wait_ready(page)
    h.assert_no_exception(page, "overview")
    trend = _chart(page, "Điểm bình quân qua các kỳ")
    legend = trend.locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert any(MARK in t for t in legend), legend
    text = h.main_text(page)
    assert "Vòng rỗng, nét đứt" in text and f"Thay đổi so với kỳ trước: {MARK}" in text
    h.screenshot(page, "merger-overview-2025")
    h.select_option(page, "Kỳ đánh giá", "Năm 2024")
    h.assert_no_exception(page, "overview 2024")
    assert "các đơn vị cũ như khi đó" in h.main_text(page)
    h.after_rerun(page, lambda: page.get_by_text("Trên đơn vị mới (ước tính)", exact=True).click())
    h.assert_no_exception(page, "overview 2024 on the new units")
    chart = _chart(page, f"Vị trí các đơn vị mới — {MARK}")
    legend = chart.locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert any(MARK in t for t in legend), legend
    h.screenshot(page, "merger-overview-2024-new-map")
    assert not page.console_errors, f"JavaScript errors: {page.console_errors}"


def test_ranking_change_since_2024_is_shown_with_the_mark(app_server, page):
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    h.open_page(page, "xep-hang")
    h.assert_no_exception(page, "ranking")
    text = h.main_text(page)
    assert f"± điểm, ± hạng so với kỳ trước: {MARK}" in text, text[:800]
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    # the grid draws only the columns in view: scroll to the change columns, beside which the mark sits
    grid.locator(".dvn-scroller").first.evaluate("e => { e.scrollLeft = e.scrollWidth * 0.45; }")
    cells = ""
    for _ in range(40):   # the accessible table follows the drawn columns a moment later
        cells = h.grid_text(page, 0)   # headers and the drawn rows
        if "Kỳ trước" in cells:
            break
        page.wait_for_timeout(250)
    assert "Kỳ trước" in cells and MARK in cells, cells[:800]
    h.screenshot(page, "merger-ranking-2025")
    assert not page.console_errors, f"JavaScript errors: {page.console_errors}"
