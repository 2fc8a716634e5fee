"""Trọng số (council, admin): edit group and criterion weights, preview the ranking under them
against the official one, save as a named profile, mark a profile official for a period.

Council weighting: each member submits weights (a saved profile) or a 100-point budget over
the groups (``council.submit``); the page shows every submission, their spread, the median
and mean consensus and the ranking under each candidate; the chair (admin, or a council
member marked chair) adopts one (``council.adopt``) and publishes the period's ranking
(``publish.publish``), each after a confirmation step. The library re-checks every permission.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pydantic
import streamlit as st

from danvan_scoring import council, insights, messages, periods, publish, store, weights
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
    common.table(view, height=420, key="w_moves", column_config={
        "Hạng chính thức": st.column_config.NumberColumn(format="%d"),
        "Hạng mới": st.column_config.NumberColumn(format="%d"),
        "Thay đổi": st.column_config.NumberColumn(format="%+d"),
        "Tổng chính thức": st.column_config.NumberColumn(format="%.2f"),
        "Tổng mới": st.column_config.NumberColumn(format="%.2f"),
    })


def official_block(period: str, fw, profiles: pd.DataFrame) -> None:
    st.subheader("Bộ trọng số chính thức của kỳ")
    current = common.official(period)
    st.markdown(f"Hiện dùng cho {common.period_label(period).lower()}: **{common.md(current.label)}**")
    actor = common.actor()
    if not actor.can("publish"):
        st.caption("Chỉ Chủ tịch Hội đồng Thi đua - Khen thưởng hoặc quản trị viên được chọn bộ trọng số chính thức.")
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
            _only_pending("w_confirm", (period, int(pick)))
            st.rerun()
        return
    _, pid = pending
    st.warning(f"Xác nhận dùng **{common.md(labels.get(pid, pid))}** làm bộ trọng số chính thức của "
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


# --------------------------------------------------------------------------- council weighting
PENDING = ("w_confirm", "cw_adopt_confirm", "pub_confirm")


def _only_pending(key: str, value) -> None:
    """One confirmation step at a time: asking for one cancels the others."""
    for k in PENDING:
        st.session_state.pop(k, None)
    st.session_state[key] = value


@st.cache_data(show_spinner=False, max_entries=16)
def _council(path: str, v: int, period: str, _con) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    sub = council.submissions(_con, period)
    spread = council.spread(_con, period)
    fw = periods.framework_for_period(_con, period)
    cons = {}
    if len(sub):
        for how in council.CONSENSUS:
            cons[how] = council.group_shares(council.consensus_profile(_con, period, how), fw)
    return sub, spread, cons


@st.cache_data(show_spinner="Đang xếp hạng theo từng phương án…", max_entries=16)
def _rankings(path: str, v: int, period: str, _con) -> tuple[pd.DataFrame, dict]:
    r = council.rankings(_con, period)
    return r, dict(r.attrs.get("labels", {}))


@st.cache_data(show_spinner=False, max_entries=16)
def _publications(path: str, v: int, period: str, _con) -> pd.DataFrame:
    return publish.publications(_con, period)


def submit_block(period: str, fw, profiles: pd.DataFrame, sub: pd.DataFrame) -> None:
    actor = common.actor()
    st.markdown("**Gửi ý kiến của bạn**")
    if not actor.can("weights"):
        st.caption("Chỉ thành viên Hội đồng Thi đua - Khen thưởng được gửi trọng số.")
        return
    mine = sub[sub["member"] == actor.username]
    if len(mine):
        r = mine.iloc[0]
        st.caption(f"Bạn đã gửi lúc {pd.Timestamp(r['submitted_at']):%d/%m/%Y %H:%M} ({r['method_label'].lower()}, "
                   f"{r['profile']}); gửi lại sẽ thay ý kiến trước.")
    method = st.radio("Cách gửi trọng số", list(council.METHOD_LABELS), index=1, horizontal=True, key="cw_method",
                      format_func=council.METHOD_LABELS.get)
    if method == "budget":
        start = {g.code: float(g.ordinary_max) for g in fw.scored_groups}
        if len(mine):
            start = {g.code: round(float(mine.iloc[0][f"share_{g.code}"]), 1) for g in fw.scored_groups}
        with st.form("cw_budget_form", border=True):
            st.caption("Chia đúng 100 điểm cho các nhóm tiêu chí theo mức quan trọng bạn thấy; trọng số các tiêu chí "
                       "trong mỗi nhóm giữ theo bộ tiêu chí.")
            cols = st.columns(len(fw.scored_groups))
            points = {}
            for col, g in zip(cols, fw.scored_groups):
                points[g.code] = col.number_input(f"Điểm phân bổ: {g.code}. {g.name}", min_value=0.0, max_value=100.0,
                                                  step=1.0, value=start[g.code], key=f"cw_pts_{period}_{g.code}")
            comment = st.text_input("Ý kiến kèm theo", key="cw_comment_budget", max_chars=300,
                                    placeholder="Vì sao bạn phân bổ như vậy (không bắt buộc)")
            sent = st.form_submit_button("Gửi phân bổ 100 điểm", type="primary", icon=":material/send:")
        if not sent:
            return
        total = sum(points.values())
        if abs(total - 100) > 1e-6:
            st.error(f"Tổng điểm phân bổ phải bằng 100, hiện là {common.vn(total, 1)}. Hãy sửa rồi gửi lại.",
                     icon=":material/error:")
            return
        kwargs = {"points": points}
    else:
        own = profiles[profiles["framework_code"] == fw.code] if len(profiles) else profiles
        if own.empty:
            st.caption("Chưa có bộ trọng số nào đã lưu; hãy lưu một bộ ở biểu mẫu phía trên.")
            return
        ids = own["profile_id"].tolist()
        labels = {r["profile_id"]: _profile_label(r) for r in own.to_dict("records")}
        cand = st.session_state.get("w_candidate")
        default = common.official(period).profile_id
        if cand and cand[0] == period:
            pid = weights.WeightProfile.model_validate_json(cand[1]).profile_id
            default = pid if pid in ids else default
        if st.session_state.get("cw_profile") not in ids:
            st.session_state.pop("cw_profile", None)
        kw = {} if "cw_profile" in st.session_state else {"index": ids.index(default) if default in ids else 0}
        pick = st.selectbox("Bộ trọng số muốn gửi", ids, key="cw_profile", format_func=lambda p: labels.get(p, p), **kw,
                            help="Muốn gửi trọng số khác: điều chỉnh và lưu ở biểu mẫu phía trên, rồi chọn ở đây")
        comment = st.text_input("Ý kiến kèm theo", key="cw_comment_weights", max_chars=300,
                                placeholder="Vì sao bạn chọn bộ trọng số này (không bắt buộc)")
        if not st.button("Gửi bộ trọng số này", type="primary", icon=":material/send:", key="cw_submit_weights"):
            return
        kwargs = {"profile": weights.load_profile_id(common.db(), int(pick))}
    try:
        saved = council.submit(common.db(), period, actor=actor, comment=comment.strip() or None, **kwargs)
    except store.PermissionDenied:
        raise
    except store.StoreError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state["w_flash"] = (f"Đã gửi trọng số của bạn cho {common.period_label(period).lower()} "
                                   f"({saved.label}); ý kiến đã có trong bảng của hội đồng.")
    st.rerun()


def submissions_block(period: str, fw, sub: pd.DataFrame, spread: pd.DataFrame, cons: dict) -> None:
    st.markdown(f"**Ý kiến của các thành viên ({len(sub)})**")
    if sub.empty:
        st.caption("Chưa có thành viên nào gửi trọng số cho kỳ này.")
        return
    groups = [g.code for g in fw.scored_groups]
    view = pd.DataFrame({"Thành viên": sub["display_name"], "Tài khoản": sub["member"],
                         "Cách gửi": sub["method_label"], "Lúc gửi": sub["submitted_at"],
                         "Bộ trọng số": sub["profile"]})
    for g in groups:
        view[f"Nhóm {g} (%)"] = sub[f"share_{g}"].astype(float).round(2)
    for how, shares in cons.items():
        row = {"Thành viên": f"Đồng thuận ({council.CONSENSUS[how][1]})", "Tài khoản": "",
               "Cách gửi": "Tính từ ý kiến các thành viên", "Lúc gửi": pd.NaT, "Bộ trọng số": ""}
        row.update({f"Nhóm {g} (%)": round(shares[g], 2) for g in groups})
        view = pd.concat([view, pd.DataFrame([row])], ignore_index=True)
    fmt = {f"Nhóm {g} (%)": st.column_config.NumberColumn(format="%.2f", help=f"Phần của {common.group_label(fw, g)} "
                                                            "trong 100 điểm") for g in groups}
    common.table(view, key="cw_submissions", column_config={
        "Lúc gửi": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"), **fmt})
    st.caption("Trọng số được so theo tỷ lệ: phần của mỗi nhóm trong 100 điểm. Đồng thuận trung vị (hoặc trung bình) "
               "lấy trung vị (trung bình) phần của từng nhóm và từng tiêu chí qua các thành viên.")

    a, b = st.columns([1.1, 1])
    with a:
        sview = pd.DataFrame({
            "Nhóm": "Nhóm " + spread["group"] + " — " + spread["group_name"], "Số ý kiến": spread["members"],
            "Thấp nhất": spread["min"], "Cao nhất": spread["max"], "Chênh lệch": spread["range"],
            "Trung vị": spread["median"], "Trung bình": spread["mean"], "Độ lệch chuẩn": spread["std"]})
        common.table(sview, key="cw_spread", column_config={
            c: st.column_config.NumberColumn(format="%.2f") for c in
            ("Thấp nhất", "Cao nhất", "Chênh lệch", "Trung vị", "Trung bình", "Độ lệch chuẩn")})
        widest = spread.sort_values("range", ascending=False).iloc[0]
        if len(sub) > 1 and widest["range"] > 0:
            st.caption(f"Các thành viên khác nhau nhiều nhất ở nhóm {widest['group']} ({widest['group_name']}): từ "
                       f"{common.vn(widest['min'], 1)} đến {common.vn(widest['max'], 1)} điểm trên 100.")
    with b:
        fig = go.Figure()
        for r in sub.to_dict("records"):
            fig.add_trace(go.Scatter(x=[f"Nhóm {g}" for g in groups], y=[float(r[f"share_{g}"]) for g in groups],
                                     mode="markers", name=r["display_name"], marker=dict(size=10, opacity=0.75),
                                     hovertemplate="%{x}: %{y:.1f} điểm<extra>" + str(r["display_name"]) + "</extra>"))
        if "median" in cons:
            fig.add_trace(go.Scatter(x=[f"Nhóm {g}" for g in groups], y=[cons["median"][g] for g in groups],
                                     mode="markers", name="Đồng thuận (trung vị)",
                                     marker=dict(symbol="line-ew-open", size=28, line=dict(width=3, color="#212121")),
                                     hovertemplate="%{x}: trung vị %{y:.1f}<extra></extra>"))
        fig.update_layout(title="Phần của mỗi nhóm theo từng thành viên (trên 100 điểm)", height=320,
                          margin=dict(l=10, r=10, t=50, b=30), yaxis_title="Điểm trên 100",
                          legend=dict(orientation="h", y=-0.2), separators=",.")
        st.plotly_chart(fig, width="stretch", key="cw_spread_chart")


def rankings_block(period: str) -> None:
    st.markdown("**Xếp hạng theo từng phương án**")
    r, labels = common.cached(_rankings, period, writes=True)
    keys = list(labels)
    moves = insights.candidate_moves(r, keys)
    moved = moves[moves["moves"].fillna(0) > 0]
    if moved.empty:
        st.caption("Các phương án cho cùng một thứ hạng.")
    else:
        st.caption(f"{common.vn_int(len(moved))} đơn vị đổi hạng giữa các phương án; chênh lệch lớn nhất "
                   f"{int(moved['moves'].max())} bậc. Những đơn vị thay đổi nhiều nhất ở trên.")
    view = pd.DataFrame({"Mã": moves["unit_code"], "Đơn vị": moves["unit_name"]})
    for k in keys:
        view[f"Hạng — {labels[k]}"] = moves[f"rank_{k}"]
    view["Chênh lệch hạng"] = moves["moves"]
    common.table(view, height=360, key="cw_rankings", column_config={
        c: st.column_config.NumberColumn(format="%d") for c in view.columns if c.startswith("Hạng")})


def adopt_block(period: str, sub: pd.DataFrame) -> None:
    actor = common.actor()
    st.markdown("**Chọn phương án làm chính thức**")
    if not actor.can("publish"):
        st.caption("Chỉ Chủ tịch Hội đồng Thi đua - Khen thưởng hoặc quản trị viên được chọn phương án chính thức.")
        return
    if sub.empty:
        st.caption("Chưa có phương án nào từ hội đồng để chọn.")
        return
    _, labels = common.cached(_rankings, period, writes=True)
    options = [k for k in labels if k != "chinh_thuc"]
    if st.session_state.get("cw_adopt_pick") not in options:
        st.session_state.pop("cw_adopt_pick", None)
    pick = st.selectbox("Phương án làm chính thức", options, key="cw_adopt_pick", format_func=lambda k: labels.get(k, k))
    pending = st.session_state.get("cw_adopt_confirm")
    if pending is None or pending[0] != period:
        if st.button("Chọn phương án làm chính thức…", key="cw_adopt_ask", icon=":material/gavel:"):
            _only_pending("cw_adopt_confirm", (period, pick))
            st.rerun()
        return
    key = pending[1]
    st.warning(f"Xác nhận dùng phương án **{labels.get(key, key)}** làm bộ trọng số chính thức của "
               f"{common.period_label(period).lower()}? Phương án đồng thuận sẽ được lưu thành một bộ trọng số mới; "
               "việc chọn được ghi vào nhật ký. Kết quả đã công bố (nếu có) không đổi cho đến khi công bố lại.",
               icon=":material/gavel:")
    a, b, _ = st.columns([1, 1, 3])
    if a.button("Xác nhận chọn phương án", type="primary", key="cw_adopt_yes"):
        profile = council.adopt(common.db(), period, key, actor=actor)
        st.session_state.pop("cw_adopt_confirm", None)
        st.session_state["w_flash"] = (f"Đã chọn phương án {labels.get(key, key)} ({profile.label}) làm bộ trọng số "
                                       f"chính thức của kỳ {period}.")
        st.rerun()
    if b.button("Hủy", key="cw_adopt_no"):
        st.session_state.pop("cw_adopt_confirm", None)
        st.rerun()


def publish_block(period: str) -> None:
    actor = common.actor()
    st.subheader("Công bố kết quả")
    table, info = common.published(period)
    if table is None:
        st.info(info["message"], icon=":material/pending:")
    else:
        st.success(info["message"], icon=":material/verified:")
    if actor.can("publish"):
        pending = st.session_state.get("pub_confirm")
        if pending is None or pending[0] != period:
            st.caption("Công bố đóng băng bảng xếp hạng của kỳ theo bộ trọng số chính thức hiện tại (lưu kèm mã kiểm "
                       "tra SHA-256); sửa trọng số hay dữ liệu sau đó không làm đổi bảng đã công bố.")
            note = st.text_input("Lời dẫn khi công bố", key="pub_note", max_chars=300,
                                 placeholder="ví dụ: Kết quả chính thức sau phiên họp Hội đồng ngày …")
            if st.button("Công bố kết quả…", key="pub_ask", icon=":material/campaign:"):
                _only_pending("pub_confirm", (period, note.strip() or None))
                st.rerun()
        else:
            current = common.official(period)
            st.warning(f"Công bố xếp hạng {common.period_label(period).lower()} theo bộ trọng số chính thức "
                       f"**{current.label}**? Trang Xếp hạng sẽ hiện bảng đã công bố này; chỉ một lần công bố mới "
                       "thay được nó. Việc công bố được ghi vào nhật ký."
                       + (f"\n\nLời dẫn: “{pending[1]}”" if pending[1] else ""), icon=":material/campaign:")
            a, b, _ = st.columns([1, 1, 3])
            if a.button("Xác nhận công bố", type="primary", key="pub_yes"):
                pub = publish.publish(common.db(), period, actor=actor, note=pending[1])
                st.session_state.pop("pub_confirm", None)
                st.session_state["w_flash"] = (f"Đã công bố kết quả {common.period_label(period).lower()}: lần công bố "
                                               f"số {pub.publication_id}, bộ trọng số {pub.profile_label}, mã kiểm tra "
                                               f"{pub.content_hash[:12]}….")
                st.rerun()
            if b.button("Hủy", key="pub_no"):
                st.session_state.pop("pub_confirm", None)
                st.rerun()
    else:
        st.caption("Chỉ Chủ tịch Hội đồng Thi đua - Khen thưởng hoặc quản trị viên được công bố kết quả.")
    pubs = common.cached(_publications, period, writes=True)
    st.markdown(f"**Các lần công bố của kỳ này ({len(pubs)})**")
    if pubs.empty:
        st.caption("Kỳ này chưa được công bố lần nào.")
        return
    common.table(pd.DataFrame({
        "Lần công bố": pubs["publication_id"], "Kỳ": pubs["period"].map(common.period_label),
        "Bộ trọng số": pubs["profile"], "Người công bố": pubs["published_by"], "Lúc công bố": pubs["published_at"],
        "Mã kiểm tra (SHA-256)": pubs["content_hash"], "Lời dẫn": pubs["note"],
    }), key="pub_list", column_config={
        "Lúc công bố": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")})


@st.fragment
@common.guarded
def council_section(period: str) -> None:
    st.subheader("Hội đồng cho ý kiến về trọng số")
    st.caption("Mỗi thành viên gửi trọng số của mình — bằng một bộ trọng số đã lưu hoặc bằng cách chia 100 điểm cho "
               "các nhóm. Trang tổng hợp mọi ý kiến, độ chênh giữa chúng, phương án đồng thuận (trung vị, trung bình) "
               "và thứ hạng theo từng phương án; Chủ tịch Hội đồng chọn một phương án làm chính thức rồi công bố.")
    con = common.db()
    fw = common.framework(period)
    sub, spread, cons = common.cached(_council, period, writes=True)
    submit_block(period, fw, weights.list_profiles(con, fw), sub)
    submissions_block(period, fw, sub, spread, cons)
    if len(sub):
        rankings_block(period)
    adopt_block(period, sub)
    st.divider()
    publish_block(period)


def main() -> None:
    common.header("Trọng số", "Hội đồng Thi đua - Khen thưởng điều chỉnh trọng số, xem trước thứ hạng thay đổi ra sao "
                              "rồi mới lưu")
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
        st.success(f"Đã lưu bộ trọng số **{common.md(saved.label)}**. Hội đồng có thể chọn bộ này làm chính thức ở dưới.",
                   icon=":material/check_circle:")
        profiles = weights.list_profiles(con, fw)

    stored = st.session_state.get("w_candidate")
    if stored and stored[0] == period:
        st.subheader("Xem trước: thứ hạng theo trọng số mới so với bộ chính thức")
        common.guarded(preview_block)(period, weights.WeightProfile.model_validate_json(stored[1]))

    st.divider()
    common.guarded(official_block)(period, fw, profiles)
    with st.expander(f"Các bộ trọng số đã lưu ({len(profiles)})"):
        common.table(pd.DataFrame({
            "Tên": profiles["name"], "Phiên bản": profiles["version"], "Ghi chú": profiles["comment"],
            "Thành viên": profiles["member"], "Người lưu": profiles["created_by"], "Lúc lưu": profiles["created_at"],
            "Chính thức kỳ này": profiles["profile_id"] == official.profile_id,
        }))
    st.divider()
    council_section(period)


main()
