"""Trọng số (council, admin): edit group and criterion weights, preview the ranking under them
against the official one, save as a named profile, mark a profile official for a period."""

from __future__ import annotations

import pandas as pd
import pydantic
import streamlit as st

from danvan_scoring import insights, messages, store, weights
from pages import common

SAVE = "Lưu bộ trọng số"
PREVIEW = "Xem trước xếp hạng"


def _profile_label(row) -> str:
    return f"{row['name']} (v{row['version']})"


def weight_form(fw, base: weights.WeightProfile) -> tuple[str | None, weights.WeightProfile | None]:
    """The form; returns (which button, the candidate profile) when submitted."""
    pid = base.profile_id or 0
    with st.form("weights_form", border=False):
        st.markdown("Trọng số nhóm quyết định phần của mỗi nhóm trong 100 điểm; trọng số tiêu chí chia phần đó "
                    "giữa các tiêu chí của nhóm. Bộ mặc định: mỗi tiêu chí mang đúng số điểm tối đa của nó.")
        groups: dict[str, float] = {}
        crits: dict[str, float] = {}
        for g in fw.scored_groups:
            with st.container(border=True):
                top = st.columns([2, 3])
                groups[g.code] = top[0].number_input(
                    common.group_label(fw, g.code), min_value=0.0, max_value=1000.0, step=1.0,
                    value=float(base.groups.get(g.code, 0.0)), key=f"wg_{pid}_{g.code}",
                    help=f"Trọng số nhóm {g.code}; tổng điểm tối đa của nhóm theo bộ tiêu chí: {g.ordinary_max:g}")
                top[1].caption(" ")
                ordinary = [c for c in g.criteria if c.ordinary]
                cols = st.columns(3)
                for i, c in enumerate(ordinary):
                    crits[c.code] = cols[i % 3].number_input(
                        f"{c.code} — {c.name}", min_value=0.0, max_value=1000.0, step=0.5,
                        value=float(base.criteria.get(c.code, 0.0)), key=f"wc_{pid}_{c.code}",
                        help=f"Điểm tối đa theo bộ tiêu chí: {c.max_points:g}")
        a, b = st.columns([1, 2])
        name = a.text_input("Tên bộ trọng số", value="" if base.name == weights.DEFAULT_PROFILE else base.name,
                            max_chars=64, placeholder="ví dụ: hoi-dong-2025", key=f"wname_{pid}",
                            help="Lưu lại cùng tên sẽ tạo phiên bản mới (v2, v3…)")
        comment = b.text_input("Ghi chú", key=f"wcomment_{pid}", placeholder="Lý do điều chỉnh, căn cứ…")
        c1, c2, _ = st.columns([1, 1, 3])
        preview = c1.form_submit_button(PREVIEW, icon=":material/visibility:")
        save = c2.form_submit_button(SAVE, type="primary", icon=":material/save:")
    if not (preview or save):
        return None, None
    try:
        cand = weights.WeightProfile(name=name.strip() or "ban-nhap", framework_code=fw.code,
                                     framework_version=fw.version, groups=groups, criteria=crits,
                                     comment=comment.strip() or None)
        cand.check_against(fw)
    except pydantic.ValidationError as exc:
        st.error("Trọng số chưa hợp lệ: " + "; ".join(messages.vi_error(e) for e in exc.errors()),
                 icon=":material/error:")
        return None, None
    except store.StoreError as exc:
        st.error(str(exc), icon=":material/error:")
        return None, None
    if save and not name.strip():
        st.error("Hãy đặt tên cho bộ trọng số trước khi lưu.", icon=":material/edit:")
        return "preview", cand
    return ("save" if save else "preview"), cand


def preview_block(period: str, cand: weights.WeightProfile) -> None:
    official = common.period_table(period)
    if official.empty:
        st.info("Kỳ này chưa có điểm nên chưa xem trước được thứ hạng.", icon=":material/inbox:")
        return
    new = common.period_table(period, cand)
    moves = insights.rank_moves(official, new)
    moved = moves[moves["moved"].fillna(0) != 0]
    c = st.columns(4)
    c[0].metric("Đơn vị đổi hạng", common.vn_int(len(moved)), border=True)
    c[1].metric("Tăng nhiều nhất", f"+{int(moves['moved'].max())} bậc" if moved["moved"].gt(0).any() else "—",
                border=True)
    c[2].metric("Giảm nhiều nhất", f"{int(moves['moved'].min())} bậc" if moved["moved"].lt(0).any() else "—",
                border=True)
    c[3].metric("Đơn vị đổi xếp loại", common.vn_int(int(moves["tier_changed"].sum())), border=True)
    provinces = common.province_names()
    view = pd.DataFrame({
        "Đơn vị": moves["unit_name"], "Tỉnh": moves["unit_code"].map(
            dict(zip(official["unit_code"], official["province_code"]))).map(provinces),
        "Hạng chính thức": moves["rank_official"], "Hạng mới": moves["rank_new"], "Thay đổi": moves["moved"],
        "Tổng chính thức": moves["total_official"].round(2), "Tổng mới": moves["total_new"].round(2),
        "Xếp loại chính thức": moves["tier_official"], "Xếp loại mới": moves["tier_new"],
    })
    st.caption(f"So với bộ chính thức *{official['profile'].iloc[0]}*; những đơn vị đổi hạng nhiều nhất ở trên. "
               "Thay đổi dương là tăng hạng.")
    st.dataframe(view, hide_index=True, width="stretch", height=420, key="w_moves", column_config={
        "Hạng chính thức": st.column_config.NumberColumn(format="%d"),
        "Hạng mới": st.column_config.NumberColumn(format="%d"),
        "Thay đổi": st.column_config.NumberColumn(format="%+d"),
        "Tổng chính thức": st.column_config.NumberColumn(format="%.2f"),
        "Tổng mới": st.column_config.NumberColumn(format="%.2f"),
    })


def official_block(period: str, fw, profiles: pd.DataFrame) -> None:
    st.subheader("Bộ trọng số chính thức của kỳ")
    current = common.official(period)
    st.markdown(f"Hiện dùng cho {common.period_label(period).lower()}: **{current.label}**")
    actor = common.actor()
    if not actor.can("publish"):
        st.caption("Chỉ Chủ tịch Hội đồng thi đua hoặc quản trị viên được chọn bộ trọng số chính thức.")
        return
    if profiles.empty:
        st.caption("Chưa có bộ trọng số nào đã lưu.")
        return
    options = profiles["profile_id"].tolist()
    labels = {r["profile_id"]: _profile_label(r) for r in profiles.to_dict("records")}
    pending = st.session_state.get("w_confirm")
    pick = st.selectbox("Chọn bộ trọng số làm chính thức", options, format_func=lambda p: labels[p],
                        key=f"w_official_{period}")
    if pending is None or pending[0] != period:
        if st.button("Chọn làm chính thức…", key="w_mark", disabled=pick == current.profile_id,
                     help="Bộ đang chọn đã là chính thức" if pick == current.profile_id else None):
            st.session_state["w_confirm"] = (period, int(pick))
            st.rerun()
        return
    _, pid = pending
    st.warning(f"Xác nhận dùng **{labels.get(pid, pid)}** làm bộ trọng số chính thức của "
               f"{common.period_label(period).lower()}? Bảng xếp hạng mọi trang sẽ tính lại theo bộ này; "
               "việc chọn được ghi vào nhật ký và có thể đổi lại sau.", icon=":material/gavel:")
    a, b, _ = st.columns([1, 1, 3])
    if a.button("Xác nhận", type="primary", key="w_confirm_yes"):
        profile = weights.load_profile_id(common.db(), pid)
        weights.mark_official(common.db(), period, profile, actor=actor)
        st.session_state.pop("w_confirm", None)
        st.session_state["w_flash"] = f"Đã chọn {profile.label} làm bộ trọng số chính thức của kỳ {period}."
        st.rerun()
    if b.button("Hủy", key="w_confirm_no"):
        st.session_state.pop("w_confirm", None)
        st.rerun()


def main() -> None:
    common.header("Trọng số", "Hội đồng thi đua điều chỉnh trọng số, xem trước thứ hạng thay đổi ra sao rồi mới lưu")
    actor = common.actor()
    period = common.period_select("w_period", only_with_data=False)
    if period is None:
        common.no_data("— chưa có kỳ đánh giá nào.")
        return
    if flash := st.session_state.pop("w_flash", None):
        st.success(flash, icon=":material/check_circle:")
    con = common.db()
    fw = common.framework(period)
    profiles = weights.list_profiles(con, fw)
    official = common.official(period)

    ids = profiles["profile_id"].tolist()
    labels = {r["profile_id"]: _profile_label(r) for r in profiles.to_dict("records")}
    if st.session_state.get("w_base") not in ids:
        st.session_state.pop("w_base", None)
    kwargs = {} if "w_base" in st.session_state else {
        "index": ids.index(official.profile_id) if official.profile_id in ids else 0}
    base_id = st.selectbox("Bộ trọng số gốc", ids, key="w_base", format_func=lambda p: labels.get(p, p),
                           help="Giá trị ban đầu của biểu mẫu", **kwargs) if ids else None
    base = weights.load_profile_id(con, base_id) if base_id is not None else weights.default_profile(fw)

    st.subheader("Điều chỉnh trọng số")
    action, cand = weight_form(fw, base)
    if cand is not None:
        st.session_state["w_candidate"] = (period, cand.model_dump_json())
    if action == "save":
        saved = weights.save_profile(con, cand, fw, actor=actor)
        st.session_state["w_candidate"] = (period, saved.model_dump_json())
        st.success(f"Đã lưu bộ trọng số **{saved.label}**. Hội đồng có thể chọn bộ này làm chính thức ở dưới.",
                   icon=":material/check_circle:")
        profiles = weights.list_profiles(con, fw)

    stored = st.session_state.get("w_candidate")
    if stored and stored[0] == period:
        st.subheader("Xem trước: thứ hạng theo trọng số mới so với bộ chính thức")
        common.guarded(preview_block)(period, weights.WeightProfile.model_validate_json(stored[1]))

    st.divider()
    common.guarded(official_block)(period, fw, profiles)
    with st.expander(f"Các bộ trọng số đã lưu ({len(profiles)})"):
        st.dataframe(pd.DataFrame({
            "Tên": profiles["name"], "Phiên bản": profiles["version"], "Ghi chú": profiles["comment"],
            "Thành viên": profiles["member"], "Người lưu": profiles["created_by"], "Lúc lưu": profiles["created_at"],
            "Chính thức kỳ này": profiles["profile_id"] == official.profile_id,
        }), hide_index=True, width="stretch")


main()
