"""Quản trị (admin): accounts and roles; the append-only audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from danvan_scoring import auth, store
from pages import common

ACTIONS = {
    "db.init": "Khởi tạo cơ sở dữ liệu", "scores.import": "Nhập điểm", "batch.undo": "Hủy lần nhập",
    "weights.save": "Lưu bộ trọng số", "weights.official": "Chọn bộ trọng số chính thức",
    "user.add": "Tạo tài khoản", "user.update": "Sửa tài khoản", "user.password_change": "Đổi mật khẩu",
    "user.password_reset": "Đặt lại mật khẩu", "user.demo_accounts": "Tạo tài khoản mẫu",
    "blocks.set": "Đặt khối thi đua", "unit.add": "Thêm đơn vị",
}


def users_section() -> None:
    con = common.db()
    actor = common.actor()
    u = auth.users(con)
    common.table(pd.DataFrame({
        "Tài khoản": u["username"], "Tên hiển thị": u["display_name"], "Vai trò": u["role"].map(auth.ROLES),
        "Chủ tịch hội đồng": u["is_chair"].astype(bool), "Đang hoạt động": u["active"].astype(bool),
        "Ngày tạo": u["created_at"],
    }), key="adm_users",
        column_config={"Ngày tạo": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")})

    a, b = st.columns(2)
    with a, st.form("adm_add", clear_on_submit=True):
        st.markdown("**Tạo tài khoản**")
        name = st.text_input("Tên tài khoản mới", help="Chữ, số, dấu chấm và gạch dưới")
        display = st.text_input("Tên hiển thị")
        role = st.selectbox("Vai trò", list(auth.ROLES), format_func=auth.ROLES.get, key="adm_add_role")
        chair = st.checkbox("Chủ tịch Hội đồng Thi đua - Khen thưởng (được chọn bộ trọng số chính thức)", key="adm_add_chair")
        password = st.text_input("Mật khẩu ban đầu", type="password", help=f"Ít nhất {auth.MIN_PASSWORD_LENGTH} ký tự")
        if st.form_submit_button("Tạo tài khoản", type="primary", icon=":material/person_add:"):
            auth.add_user(con, name.strip(), role, password, actor=actor, display_name=display.strip() or None,
                          is_chair=chair)
            st.session_state["adm_flash"] = f"Đã tạo tài khoản “{name.strip()}” ({auth.ROLES[role]})."
            st.rerun()
    with b:
        if u.empty:
            return
        st.markdown("**Sửa vai trò, khóa tài khoản**")
        who = st.selectbox("Tài khoản", u["username"].tolist(), key="adm_edit_user")
        row = u[u["username"] == who].iloc[0]
        with st.form("adm_edit"):
            new_role = st.selectbox("Vai trò mới", list(auth.ROLES), format_func=auth.ROLES.get, key=f"adm_role_{who}",
                                    index=list(auth.ROLES).index(row["role"]) if row["role"] in auth.ROLES else 0)
            is_chair = st.checkbox("Chủ tịch Hội đồng Thi đua - Khen thưởng", value=bool(row["is_chair"]), key=f"adm_chair_{who}")
            active = st.checkbox("Đang hoạt động", value=bool(row["active"]), key=f"adm_active_{who}",
                                 help="Bỏ chọn để khóa: tài khoản bị đăng xuất ngay và không đăng nhập được")
            if st.form_submit_button("Lưu thay đổi", icon=":material/save:"):
                if who == actor.username and (new_role != "admin" or not active):
                    st.error("Không thể tự bỏ quyền quản trị hoặc tự khóa tài khoản đang dùng.")
                else:
                    auth.set_role(con, who, new_role, actor=actor, is_chair=is_chair, active=active)
                    st.session_state["adm_flash"] = f"Đã cập nhật tài khoản “{who}”."
                    st.rerun()
        with st.form("adm_reset", clear_on_submit=True):
            st.markdown(f"**Đặt lại mật khẩu** cho “{common.md(who)}”")
            new_pw = st.text_input("Mật khẩu mới", type="password", key="adm_reset_pw", autocomplete="new-password",
                                   help=f"Ít nhất {auth.MIN_PASSWORD_LENGTH} ký tự; các phiên đang mở của tài khoản "
                                        "bị đăng xuất")
            if st.form_submit_button("Đặt lại mật khẩu", icon=":material/lock_reset:"):
                auth.reset_password(con, who, new_pw, actor=actor)
                st.session_state["adm_flash"] = f"Đã đặt lại mật khẩu của tài khoản “{who}”."
                st.rerun()


def audit_section() -> None:
    log = store.audit_log(common.db(), limit=2000)
    if log.empty:
        st.caption("Nhật ký trống.")
        return
    c1, c2 = st.columns(2)
    acts = sorted(log["action"].unique())
    chosen = common.filter_multiselect(c1, "Loại thao tác", acts, format_func=lambda a: ACTIONS.get(a, a),
                                       key="adm_act")
    who = common.filter_multiselect(c2, "Người thực hiện", sorted(log["actor"].unique()), key="adm_actor")
    if chosen:
        log = log[log["action"].isin(chosen)]
    if who:
        log = log[log["actor"].isin(who)]
    common.table(pd.DataFrame({
        "Số": log["audit_id"], "Thời điểm": log["logged_at"], "Người thực hiện": log["actor"],
        "Thao tác": log["action"].map(lambda a: ACTIONS.get(a, a)), "Đối tượng": log["target"],
        "Trước": log["before"], "Sau": log["after"],
    }), height=480, key="adm_audit",
        column_config={"Thời điểm": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm:ss"),
                       "Trước": st.column_config.TextColumn(width="medium"),
                       "Sau": st.column_config.TextColumn(width="large")})
    st.caption("Nhật ký chỉ được ghi thêm, không sửa, không xóa. Hiển thị tối đa 2.000 dòng mới nhất.")


def main() -> None:
    common.header("Quản trị", "Tài khoản, vai trò và nhật ký mọi thao tác ghi")
    if flash := st.session_state.pop("adm_flash", None):
        st.success(flash, icon=":material/check_circle:")
    t1, t2 = st.tabs(["Tài khoản và vai trò", "Nhật ký thao tác"])
    with t1:
        common.guarded(users_section)()
    with t2:
        common.guarded(audit_section)()


main()
