"""Writes through the real UI: a staff upload changes the ranking; a council saves weights.

One server per module (``write_server``); the last test stops it and reads the database
file with the library to check that nothing the UI confirmed was lost.
"""

from __future__ import annotations

import cases
import st_harness as h

from danvan_scoring import batches

PROFILE_NAME = "kiem-thu-trinh-duyet"


def _profile_text(page, server, case) -> str:
    h.goto(page, f"{server.url}/ho-so?unit={case.unit_code}&period={case.period}")
    if not h.signed_in(page):
        h.sign_in(page, None, h.ROLE_USERS["staff"])
    h.assert_no_exception(page, "profile")
    return h.main_text(page)


def _shows(text: str, x: float) -> bool:
    return any(f in text for f in cases.number_forms(x))


def test_staff_upload_through_the_file_input_changes_the_ranking(write_server, page, upload_case, tmp_path):
    case = upload_case
    before = _profile_text(page, write_server, case)
    assert case.unit_name in before
    assert _shows(before, case.before_total), f"profile shows the old total {case.before_total:.2f}"
    h.screenshot(page, "upload-0-profile-before")

    h.open_page(page, "nhap-du-lieu")
    csv = tmp_path / case.filename
    csv.write_bytes(case.data)
    inp = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    h.after_rerun(page, lambda: inp.set_input_files(str(csv)))
    h.assert_no_exception(page, "after choosing the file")
    confirm = page.get_by_role("button", name="Xác nhận nhập")
    confirm.wait_for()
    h.screenshot(page, "upload-1-validated")
    h.after_rerun(page, lambda: confirm.click(), timeout=60_000)
    h.assert_no_exception(page, "after confirming the import")
    page.locator("[data-testid='stAlertContentSuccess'], [data-testid='stSuccess'], "
                 "[data-testid='stAlert']").first.wait_for()
    h.screenshot(page, "upload-2-imported")

    after = _profile_text(page, write_server, case)
    assert _shows(after, case.after_total), (
        f"after the import the profile shows {case.after_total:.2f} (library), page: {after[:600]!r}")
    h.screenshot(page, "upload-3-profile-after")

    h.open_page(page, "xep-hang")
    h.assert_no_exception(page, "ranking after import")
    h.screenshot(page, "upload-4-ranking-after")


def test_council_changes_a_weight_and_saves_a_profile(write_server, page):
    h.sign_in(page, write_server.url, h.ROLE_USERS["council"])
    h.open_page(page, "trong-so")
    h.assert_no_exception(page, "weights page")
    h.screenshot(page, "weights-0-page")
    # the weights live in a form: editing does not rerun, the buttons submit
    num = page.locator("[data-testid='stNumberInput'] input").first
    num.wait_for()
    old = float(num.input_value().replace(",", "."))
    num.fill(f"{old + 5:g}")
    num.press("Tab")
    page.get_by_role("textbox", name="Tên bộ trọng số").fill(PROFILE_NAME)
    page.get_by_role("textbox", name="Ghi chú").fill("kiểm thử trình duyệt: tăng một trọng số nhóm")
    h.after_rerun(page, lambda: page.get_by_role("button", name="Xem trước xếp hạng").click())
    h.assert_no_exception(page, "after the preview")
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    h.screenshot(page, "weights-1-preview")
    h.after_rerun(page, lambda: page.get_by_role("button", name="Lưu bộ trọng số").click())
    h.assert_no_exception(page, "after saving")
    saved = page.locator("[data-testid='stAlert']").filter(has_text="Đã lưu bộ trọng số")
    saved.first.wait_for()
    assert PROFILE_NAME in saved.first.inner_text()
    h.screenshot(page, "weights-2-saved")
    # the saved profile is offered for marking official
    offered = h.select_options(page, "Chọn bộ trọng số làm chính thức")
    assert any(PROFILE_NAME in o for o in offered), offered


def test_nothing_confirmed_was_lost(write_server, upload_case):
    """Stop the server (it holds the file) and read what the UI wrote with the library."""
    from danvan_scoring import store, weights

    write_server.stop()
    con = store.connect(write_server.db, read_only=True)
    try:
        b = batches.batches(con)
        assert (b["filename"].astype(str) == upload_case.filename).any(), b.tail()
        profiles = weights.list_profiles(con)
        assert (profiles["name"] == PROFILE_NAME).any(), f"the profile saved in the UI is stored: {profiles}"
        actions = " ".join(store.audit_log(con)["action"].astype(str))
        assert "import" in actions or "nhập" in actions, actions
    finally:
        con.close()
