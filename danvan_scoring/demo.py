"""Synthetic demo scores — DỮ LIỆU MINH HỌA, not real results of any commune.

Deterministic under a seed. Two whole provinces (Hà Tĩnh and An Giang, the places the
source documents report on), three periods, both stages, with the spread a council
sees: most communes steady, some improving, some declining, self-scores usually a
little above appraised ones, a few not eligible (a required criterion or its evidence
missing), a few vetoed.

Across the 1 July 2025 merger (``demo_across_merger``): the periods that ended before it
(2023, 2024) are scored on the legacy communes whose territory went into the demo provinces'
new units, each with a quality close to the new unit it went into; later periods on the new
units. So the trend, the history and the change since 2024 all go through the crosswalk.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from . import batches, crosswalk, store, units
from . import periods as period_store
from . import units as unit_store
from .auth import DEMO_ACCOUNTS, create_demo_accounts, create_demo_unit_accounts, demo_unit_accounts, users
from .bootstrap import ensure_period, init_connection
from .criteria import V2_FRAMEWORK_FILE, Framework, Kind, load_framework
from .permissions import CLI_ACTOR
from .registry import ENTRY_COLUMNS, ensure_schema, write_models_batch
from .rubric import RECOGNISED, Rubric, default_rubric, rubric_json, rubric_total

DEMO_PROVINCES = ["42", "91"]   # Hà Tĩnh, An Giang
DEMO_PERIODS = ["2023", "2024", "2025"]
SYNTHETIC_NOTE = "Dữ liệu minh họa (tổng hợp ngẫu nhiên)"


def demo_framework() -> Framework:
    """The demo's periods (2023–2025) are scored on the five-band framework v2 they were built
    with; a period added later (``danvan period add``) gets the current default (v3)."""
    return load_framework(V2_FRAMEWORK_FILE)


def _value_for(c, ach: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Achievement 0…1 → a raw value of the criterion's kind."""
    if c.kind is Kind.pass_fail:
        return (rng.random(ach.shape) < 0.15 + 0.85 * ach).astype(float)
    if c.kind is Kind.ratio:
        return np.round(np.clip(ach * c.target * rng.uniform(0.9, 1.15, ach.shape), 0, None), 1)
    if c.kind is Kind.count:
        return np.floor(ach * (c.max_points / c.per_unit) * 1.2 + rng.random(ach.shape))
    return np.round(np.clip(ach * c.max_points, 0, c.max_points) * 4) / 4   # quarter points


def latent(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(level, slope) of n units: each unit's underlying quality and how it moves a period."""
    level = rng.normal(0.0, 1.0, n)               # each unit's underlying quality
    slope = rng.normal(0.0, 0.25, n)              # most steady…
    movers = rng.random(n)
    slope[movers < 0.15] += 0.6                    # …some clearly improving
    slope[movers > 0.92] -= 0.5                    # …a few declining
    return level, slope


def generate(fw: Framework, unit_codes: list[str], periods: list[str], seed: int = 2025, *,
             quality: tuple[np.ndarray, np.ndarray] | None = None, periods_after: int = 0,
             note: str | None = None) -> pd.DataFrame:
    """Score rows of both stages. ``quality``: the units' (level, slope) (else drawn); ``periods_after``:
    how many demo periods follow these (their quality is then that many slopes below its level, and
    no unit misses a criterion: that happens in the latest period only)."""
    rng = np.random.default_rng(seed)
    n = len(unit_codes)
    level, slope = quality if quality is not None else latent(rng, n)
    note = note or SYNTHETIC_NOTE
    ordinary = [c for c in fw.criteria.values() if c.ordinary and not c.derived]
    difficulty = {c.code: rng.normal(0.9, 0.35) for c in ordinary}
    rows = []
    for t, period in enumerate(periods):
        q = level + slope * (t - (len(periods) - 1) - periods_after)
        vetoed = rng.random(n) < 0.03
        for c in ordinary:
            logit = difficulty[c.code] + 0.9 * q + rng.normal(0, 0.6, n)
            ach = 1 / (1 + np.exp(-logit))
            appr = _value_for(c, ach, rng)
            if c.code in {v.criterion for v in fw.vetoes}:
                appr = np.where(vetoed & (rng.random(n) < 0.6 if c.code == "E2" else vetoed), 0.0, 1.0)
            self_ach = np.clip(ach + rng.normal(0.03, 0.04, n), 0, 1)
            own = _value_for(c, self_ach, rng) if not c.appraiser_only else None
            evidence = np.array([f"minh-chung/{period}/{u}/{c.code}.pdf" for u in unit_codes], dtype=object)
            if c.evidence_required:
                evidence[rng.random(n) < 0.006] = None       # a few forgot the evidence → not eligible
            rows.append(pd.DataFrame({"unit_code": unit_codes, "period": period, "criterion_code": c.code,
                                      "stage": "appraised", "value": appr, "evidence": evidence,
                                      "note": note}))
            if own is not None:
                rows.append(pd.DataFrame({"unit_code": unit_codes, "period": period, "criterion_code": c.code,
                                          "stage": "self", "value": own, "evidence": evidence,
                                          "note": note}))
        for c in fw.criteria.values():
            if c.derived:
                continue
            if c.kind is Kind.bonus:
                lucky = (rng.random(n) < 0.12 + 0.1 * (q > 1)).nonzero()[0]
                vals = np.round(rng.uniform(0.5, c.max_points, len(lucky)) * 2) / 2
            elif c.kind is Kind.penalty:
                lucky = (rng.random(n) < 0.06 + 0.1 * (q < -1)).nonzero()[0]
                vals = np.round(rng.uniform(0.5, c.max_points * 0.6, len(lucky)) * 2) / 2
            else:
                continue
            for stage in ("appraised", "self"):
                rows.append(pd.DataFrame({"unit_code": [unit_codes[i] for i in lucky], "period": period,
                                          "criterion_code": c.code, "stage": stage, "value": vals,
                                          "evidence": None, "note": note}))
    out = pd.concat(rows, ignore_index=True)
    if periods_after:
        return out
    # a few units miss a required criterion altogether in the latest period
    last = periods[-1]
    missing_units = rng.choice(unit_codes, size=max(1, n // 40), replace=False)
    drop = (out["period"] == last) & (out["stage"] == "appraised") & out["unit_code"].isin(missing_units) \
        & (out["criterion_code"] == "D1")
    return out[~drop].reset_index(drop=True)


def _per_framework(con, periods: list[str], make) -> pd.DataFrame:
    """``make(fw)``'s rows, each period's on its own framework (a period ``init`` made before the demo
    may be on v3 while the demo's history is on v2); ``make`` draws the same trajectory every time."""
    by_key: dict[str, tuple] = {}
    for p in periods:
        fw = period_store.framework_for_period(con, p)
        by_key.setdefault(fw.key, (fw, []))[1].append(p)
    parts = []
    for fw, own in by_key.values():
        rows = make(fw)
        parts.append(rows[rows["period"].isin(own)])
    return pd.concat(parts, ignore_index=True)


def real_users(con) -> list[str]:
    """Accounts of the database that are not the demo's own sample accounts."""
    return sorted(set(users(con)["username"]) - set(DEMO_ACCOUNTS) - set(demo_unit_accounts(con)))


def fill_demo(con, seed: int = 2025, provinces: list[str] | None = None,
              periods: list[str] | None = None, *, force: bool = False, cycle: bool = False) -> dict:
    """Fill synthetic scores into an initialised database (idempotent for the same seed).

    A database that already has real (non-demo) accounts is refused unless ``force``; even then
    no demo account (with its known password) is added to it. ``accounts`` in the result says
    whether they were added."""
    fw = demo_framework()
    init_connection(con, framework=fw)
    real = real_users(con)
    if real and not force:
        raise store.StoreError(
            f"Cơ sở dữ liệu đã có {len(real)} tài khoản thật: không điền dữ liệu minh họa vào đó. "
            "Hãy dùng một tệp mới (--db), hoặc thêm --force nếu thật sự muốn (sẽ không thêm tài khoản mẫu).")
    provinces = provinces or DEMO_PROVINCES
    periods = periods or DEMO_PERIODS
    for p in periods:
        ensure_period(con, p, fw)
    u = units.units(con)
    codes = u.loc[u["province_code"].isin(provinces), "unit_code"].tolist()
    rows = demo_across_merger(con, fw, codes, periods, seed)
    store.set_meta(con, "synthetic_demo", "true")
    store.set_meta(con, "demo_seed", str(seed))
    store.set_meta(con, "demo_provinces", ",".join(provinces))
    res = batches.write_batch(con, rows, actor=CLI_ACTOR, filename=f"demo(seed={seed})",
                            content_hash=f"demo-{seed}", synthetic=True, comment=SYNTHETIC_NOTE)
    generate_demo_models(con, seed=seed, periods=periods, provinces=provinces)
    if not real:
        create_demo_accounts(con)
        create_demo_unit_accounts(con, demo_unit_codes(codes))
    if cycle:
        demo_cycle(con, periods[-1], codes, seed)
    return {"units": len(codes), "rows": len(rows), "periods": periods, "batch": res.batch_id,
            "new": res.new, "changed": res.changed, "accounts": not real}


# --------------------------------------------------------------------------- demo registry
DEMO_NOTE = "Dữ liệu minh họa (tổng hợp ngẫu nhiên)"
# the registry draws from its own stream, so adding models does not change the demo's scores
REGISTRY_SEED_OFFSET = 77
_DEMO_NAMES = {
    "economy": ["Dân vận khéo trong chuyển đổi cơ cấu cây trồng, vật nuôi", "Hiến đất mở đường giao thông nông thôn",
                "Liên kết sản xuất, tiêu thụ nông sản sạch", "Dồn điền đổi thửa, xây dựng cánh đồng lớn",
                "Hỗ trợ hộ nghèo thoát nghèo bền vững", "Tổ hợp tác nuôi trồng thủy sản",
                "Vườn mẫu nông thôn mới", "Sản phẩm OCOP từ làng nghề truyền thống",
                "Chợ phiên nông sản an toàn", "Vốn vay xoay vòng giúp nhau làm kinh tế"],
    "culture_society": ["Thôn xanh - sạch - đẹp", "Phân loại rác thải tại nguồn", "Bữa cơm nghĩa tình",
                        "Tủ sách cộng đồng", "Câu lạc bộ dưỡng sinh người cao tuổi", "Nhà văn hóa thông minh",
                        "Đường hoa tự quản", "Khuyến học, khuyến tài dòng họ", "Tiệc cưới văn minh, tiết kiệm"],
    "defence_security": ["Camera an ninh cộng đồng", "Tổ tự quản an ninh trật tự",
                         "Khu dân cư không có tội phạm và tệ nạn xã hội", "Dòng họ tự quản về an ninh trật tự",
                         "Ngư dân bám biển giữ chủ quyền"],
    "party_building": ["Chi bộ bốn tốt", "Đảng viên phụ trách hộ gia đình", "Sinh hoạt chi bộ chuyên đề gắn với dân",
                       "Cấp ủy lắng nghe dân nói"],
    "government": ["Bộ phận một cửa thân thiện", "Cán bộ đi từng ngõ, gõ từng nhà",
                   "Đối thoại trực tiếp với Nhân dân hằng quý", "Chính quyền số gần dân",
                   "Giải quyết đơn thư ngay tại cơ sở"],
    "mass_organisations": ["Phụ nữ tiết kiệm giúp nhau", "Nông dân giúp nhau làm kinh tế", "Thanh niên tình nguyện",
                           "Cựu chiến binh giúp nhau giảm nghèo", "Mái ấm Công đoàn", "Mặt trận cùng dân xây nhà"],
}
_DEMO_PEOPLE = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Võ Thị Hoa",
                "Đặng Văn Hùng", "Bùi Thị Lan", "Đỗ Văn Minh", "Hồ Thị Nga", "Ngô Văn Phúc", "Dương Thị Quỳnh"]
# Can Lộc 2015 (441 models), except Party building which the demo leaves almost empty (Kiên Giang:
# Party agencies registered only 10% of models)
_DEMO_FIELD_P = {"economy": 197, "culture_society": 92, "defence_security": 39, "party_building": 4,
                 "government": 34, "mass_organisations": 39}


def demo_registry(unit_codes: list[str], unit_types: Mapping[str, str], periods: list[str],
                  seed: int = 2025, rubric: Rubric | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(registered, final) registry rows: what was registered at the start of each period and the
    state at its year-end review. Deterministic under ``seed``."""
    rubric = rubric or default_rubric()
    rng = np.random.default_rng(seed + REGISTRY_SEED_OFFSET)
    fcodes = list(_DEMO_FIELD_P)
    fp = np.array([_DEMO_FIELD_P[f] for f in fcodes], dtype=float)
    fp /= fp.sum()
    n = len(unit_codes)
    style = rng.choice(["many_weak", "few_strong", "typical", "none"], size=n, p=[0.2, 0.15, 0.62, 0.03])
    quality = rng.normal(0, 1, n)
    reg, fin = [], []
    maxes = np.array([it.max_points for it in rubric.items])
    for t, period in enumerate(periods):
        for ui, unit in enumerate(unit_codes):
            st = style[ui]
            if st == "none":
                continue
            count = {"many_weak": rng.integers(9, 17), "few_strong": rng.integers(2, 5),
                     "typical": rng.integers(4, 9)}[st]
            base_q = {"many_weak": 0.45, "few_strong": 0.85, "typical": 0.66}[st] + 0.05 * quality[ui] + 0.02 * t
            p_rec = {"many_weak": 0.25, "few_strong": 0.85, "typical": 0.5}[st]
            p_drop = {"many_weak": 0.25, "few_strong": 0.03, "typical": 0.1}[st]
            place = "tổ dân phố" if unit_types.get(unit) == "phuong" else "thôn"
            used: set[str] = set()
            for k in range(int(count)):
                f = fcodes[rng.choice(len(fcodes), p=fp)]
                individual = rng.random() < 0.15
                if individual:
                    person = _DEMO_PEOPLE[rng.integers(len(_DEMO_PEOPLE))]
                    name = f"Điển hình: {person} — {_DEMO_NAMES[f][rng.integers(len(_DEMO_NAMES[f]))].lower()}"
                else:
                    name = f"{_DEMO_NAMES[f][rng.integers(len(_DEMO_NAMES[f]))]} ở {place} {rng.integers(1, 15)}"
                if name in used:
                    name = f"{name} (mô hình {k + 1})"
                used.add(name)
                mid = f"MH-{unit}-{period}-{k + 1:02d}"
                u = rng.random()
                if u < p_drop:
                    status = "dropped"
                elif u < p_drop + p_rec:
                    status = "replicated" if rng.random() < (0.35 if st == "few_strong" else 0.08) else "recognised"
                else:
                    status = "in_progress" if rng.random() < 0.7 else "registered"
                level = None
                if status in RECOGNISED:
                    lv = rng.random()
                    level = "central" if lv < (0.06 if st == "few_strong" else 0.01) else \
                        "province" if lv < (0.4 if st == "few_strong" else 0.1) else "commune"
                scores = None
                if status in RECOGNISED or (status == "in_progress" and rng.random() < 0.3):
                    q = np.clip(base_q + rng.normal(0, 0.08, len(maxes)), 0.15, 1.0)
                    scores = {it.code: float(np.round(q[j] * it.max_points * 2) / 2)
                              for j, it in enumerate(rubric.items)}
                common = {"period": period, "model_id": mid, "unit_code": unit, "name": name, "field": f,
                          "kind": "individual" if individual else "collective", "note": DEMO_NOTE}
                reg.append({**common, "status": "registered", "level": None, "evidence": None, "rubric": None,
                            "rubric_total": None})
                fin.append({**common, "status": status, "level": level,
                            "evidence": f"minh-chung/mo-hinh/{period}/{mid}.pdf" if status in RECOGNISED else None,
                            "rubric": rubric_json(scores), "rubric_total": rubric_total(scores, rubric)})
    return pd.DataFrame(reg, columns=ENTRY_COLUMNS), pd.DataFrame(fin, columns=ENTRY_COLUMNS)


def generate_demo_models(con, seed: int = 2025, periods: list[str] | None = None,
                         provinces: list[str] | None = None) -> dict:
    """Fill a synthetic registry for the demo units (idempotent for the same seed): some communes
    with many weak models, some with few strong ones, Party building almost empty. Two batches,
    so the model cards have a status history: registration, then the year-end review."""
    ensure_schema(con)
    if provinces is None:
        meta = store.get_meta(con, "demo_provinces")
        provinces = meta.split(",") if meta else ["42", "91"]
    periods = periods or period_store.periods(con)
    u = unit_store.units(con)
    u = u[u["province_code"].isin(provinces)]
    reg, fin = demo_registry_across_merger(con, u, periods, seed)
    a = write_models_batch(con, reg, actor=CLI_ACTOR, filename=f"demo-mo-hinh-dang-ky(seed={seed})",
                           content_hash=f"demo-models-reg-{seed}", synthetic=True,
                           comment=DEMO_NOTE + ": đăng ký đầu kỳ")
    if a.skipped_duplicate:  # already filled: leave later changes alone
        return {"models": len(fin), "batches": [], "new": 0}
    b = write_models_batch(con, fin, actor=CLI_ACTOR, filename=f"demo-mo-hinh-tong-ket(seed={seed})",
                           content_hash=f"demo-models-review-{seed}", synthetic=True,
                           comment=DEMO_NOTE + ": tổng kết cuối kỳ")
    return {"models": len(fin), "batches": [a.batch_id, b.batch_id], "new": a.new}


# --------------------------------------------------------------------------- the annual cycle
DEMO_UNIT_ACCOUNTS = 6           # xa_<code> accounts, password "demo", listed on the sign-in page
DEMO_EVIDENCE = (b"%PDF-1.4\n% DU LIEU MINH HOA - minh chung tong hop, khong phai van ban that\n"
                 b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                 b"trailer<</Root 1 0 R>>\n%%EOF\n")


def demo_unit_codes(codes: list[str]) -> list[str]:
    """A handful of units spread over the demo provinces."""
    step = max(1, len(codes) // DEMO_UNIT_ACCOUNTS)
    return sorted(codes)[::step][:DEMO_UNIT_ACCOUNTS]


def demo_cycle(con, period: str, codes: list[str], seed: int = 2025) -> dict:
    """Put the demo's latest period mid-cycle: self-assessment with evidence files (one synthetic
    PDF stored once), most units submitted and the rest late, appraisal done, and the objection
    window open with a few objections filed. The demo unit accounts' own units stay unsubmitted
    candidates for objections, so a visitor signing in as one can file one."""
    from datetime import timedelta

    from . import evidence, lifecycle, objections
    from .permissions import Actor

    if lifecycle.state(con, period).state != "open":
        return {"state": lifecycle.state(con, period).state}
    rng = np.random.default_rng(seed + 13)
    fw = period_store.framework_for_period(con, period)
    lifecycle.advance(con, period, actor=CLI_ACTOR, deadline=store.now().date() + timedelta(days=1))
    cur = batches.current_scores(con, period, stage="self")
    needs = [c.code for c in fw.criteria.values() if c.evidence_required]
    with_ref = cur[cur["criterion_code"].isin(needs) & cur["evidence"].notna()]
    evidence.add_many(con, DEMO_EVIDENCE, with_ref[["unit_code", "criterion_code"]], period=period,
                      file_name="minh-chung-minh-hoa.pdf", actor=CLI_ACTOR)
    sorted_codes = sorted(codes)
    submitted = [u for u in sorted_codes if rng.random() < 0.85]
    lifecycle.submit_many(con, period, submitted, actor=CLI_ACTOR)
    for _ in range(3):                                      # appraisal, provisional, objections
        lifecycle.advance(con, period, actor=CLI_ACTOR)
    accounts = demo_unit_codes(codes)
    filers = [u for u in submitted if u not in accounts][:3]
    texts = ["Đơn vị đã tổ chức 4 cuộc đối thoại trực tiếp, có biên bản kèm theo, đề nghị chấm lại.",
             "Mô hình của đơn vị đã được huyện công nhận năm 2024, đề nghị xem xét.",
             "Đề nghị xem lại điểm trừ: vụ việc đã được giải quyết dứt điểm trước kỳ đánh giá."]
    for u, text, crit in zip(filers, texts, ["B3", "C2", "P3"]):
        objections.add(con, period, u, text, actor=Actor("danvan-demo", "admin"),
                       criterion=crit if crit in fw.criteria else None)
    return {"state": "objections", "submitted": len(submitted), "late": len(codes) - len(submitted),
            "objections": len(filers)}


# --------------------------------------------------------------------------- across the 2025 merger
LEGACY_NOTE = f"{SYNTHETIC_NOTE} — đơn vị cũ trước 01/07/2025"


def legacy_predecessors(con, unit_codes: list[str]) -> pd.DataFrame:
    """The crosswalk rows (legacy_code, unit_code, share) of the old units that went, whole or in
    part, into these new units; one row per old unit: the new unit that took its largest share."""
    cw = crosswalk.crosswalk(con)
    cw = cw[cw["unit_code"].isin(unit_codes) & (cw["share"] > 0)]
    main = cw.sort_values(["legacy_code", "share", "unit_code"], ascending=[True, False, True], kind="mergesort")
    return main.drop_duplicates("legacy_code")[["legacy_code", "unit_code", "share"]].reset_index(drop=True)


def demo_across_merger(con, fw: Framework, unit_codes: list[str], periods: list[str], seed: int) -> pd.DataFrame:
    """Score rows of the demo: periods before 1 July 2025 on the legacy units that went into
    ``unit_codes`` (marked ``LEGACY_NOTE``), later periods on ``unit_codes``. An old unit's quality
    is that of the new unit it went into, plus its own spread, so the change since 2024 means
    something; each side draws from its own stream of ``seed``."""
    pre = [p for p in periods if crosswalk.is_pre_merger(p)]
    post = [p for p in periods if not crosswalk.is_pre_merger(p)]
    old = legacy_predecessors(con, unit_codes) if pre else None
    if not pre or old is None or old.empty:
        return _per_framework(con, periods, lambda f: generate(f, unit_codes, periods, seed))
    rng = np.random.default_rng([seed, 16])
    level, slope = latent(rng, len(unit_codes))
    at = pd.Series(np.arange(len(unit_codes)), index=unit_codes).reindex(old["unit_code"]).to_numpy()
    old_q = (level[at] + rng.normal(0.0, 0.6, len(old)), slope[at] + rng.normal(0.0, 0.1, len(old)))
    frames = [_per_framework(con, pre, lambda f: generate(f, old["legacy_code"].tolist(), pre, seed, quality=old_q,
                                                          periods_after=len(post), note=LEGACY_NOTE))]
    if post:
        frames.append(_per_framework(con, post, lambda f: generate(f, unit_codes, post, seed + 1,
                                                                   quality=(level, slope))))
    return pd.concat(frames, ignore_index=True)


def demo_registry_across_merger(con, new_units: pd.DataFrame, periods: list[str],
                                seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``demo_registry`` on the units each period was scored on: the legacy units before 1 July 2025."""
    pre = [p for p in periods if crosswalk.is_pre_merger(p)]
    post = [p for p in periods if not crosswalk.is_pre_merger(p)]
    codes = new_units["unit_code"].tolist()
    types = dict(zip(new_units["unit_code"], new_units["unit_type"]))
    old = legacy_predecessors(con, codes) if pre else pd.DataFrame(columns=["legacy_code"])
    if old.empty:
        return demo_registry(codes, types, periods, seed)
    lu = crosswalk.legacy_units(con)
    old_types = dict(zip(lu["legacy_code"], lu["unit_type"]))
    parts = [demo_registry(old["legacy_code"].tolist(), old_types, pre, seed)]
    if post:
        parts.append(demo_registry(codes, types, post, seed + 1))
    return (pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts], ignore_index=True))
