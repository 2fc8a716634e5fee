"""The documents offices file: the award decision with its annex, per-unit appraisal minutes, and
the mid-year / year-end report — DOCX (and PDF through LibreOffice), the report also as XLSX.

Every number comes from the library calls the CLI prints: ``results.period_results`` (what
``danvan rank`` lists), ``registry`` (``danvan models``) and ``votes`` (``danvan awards``).
The layout (Nghị định 30/2020/NĐ-CP) lives in :mod:`documents`; the wording a province changes
in ``data/templates/documents.yaml``.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK

from . import crosswalk, derived, periods, registry, store
from . import documents as d
from .award_catalogue import Catalogue, load_catalogue
from .awards import STATUS_LABELS
from .criteria import INCOMPLETE, NOT_ELIGIBLE
from .export import neutralise_formulas
from .frames import isin
from .results import period_results, period_scores
from .rubric import LEVEL_LABELS, RECOGNISED
from .scoring import points_of
from .votes import decided, period_proposals
from .weights import WeightProfile, official_profile

KINDS = {"tong-ket": "Tổng kết", "so-ket": "Sơ kết"}
MOVEMENT = "công tác dân vận và phong trào thi đua “Dân vận khéo”"
# tables another part of the product may add with the appraiser's reason per criterion; read when present
REASON_TABLES = ("appraisal_reasons",)


def vn(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return "—"
    return f"{float(x):,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _province_name(res: pd.DataFrame) -> str:
    names = res["province_name"].dropna().unique()
    if len(names) == 1:
        return re.sub(r"^(Tỉnh|Thành phố)\s+", "", str(names[0]))
    return "……"


def _fill(value, province: str):
    if isinstance(value, list):
        return [_fill(v, province) for v in value]
    return value.replace("{province}", province) if isinstance(value, str) else value


def _section(name: str, province: str) -> dict:
    s = d.settings()
    out = {k: _fill(v, province) for k, v in (s.get(name) or {}).items()}
    out["place"] = _fill(s.get("place", "{province}"), province)
    return out


def _header(doc, cfg: dict) -> None:
    d.header_block(doc, superior=cfg.get("superior", ""), issuer=cfg.get("issuer", ""), number=cfg.get("number", "Số:"),
                   place_date=d.date_line(cfg["place"]))


def _results(con, period: str, profile: WeightProfile | None, province: str | None = None,
             with_previous: bool = True) -> pd.DataFrame:
    res = period_results(con, period, profile or official_profile(con, period), with_previous=with_previous)
    if province:
        res = res[res["province_code"] == province].reset_index(drop=True)
        if res.empty:
            raise d.DocumentError(f"Kỳ {period} không có đơn vị nào của tỉnh mã '{province}'.")
    return res


# --------------------------------------------------------------------------- decision
DECISION_ANNEX = ["TT", "Tên tập thể", "Mã đơn vị", "Hình thức khen thưởng", "Tổng điểm", "Xếp loại"]


def decision_document(con, period: str, profile: WeightProfile | None = None, *, province: str | None = None,
                      catalogue: Catalogue | None = None):
    """The draft decision awarding what the council passed, with the annex (unit, award, total, tier)."""
    catalogue = catalogue or load_catalogue()
    res = _results(con, period, profile, province, with_previous=False)
    props = period_proposals(con, period, profile, catalogue, res=res)
    won = decided(con, period, profile, catalogue, proposals=props)
    if won.empty:
        raise d.DocumentError(f"Kỳ {period}: chưa có đề nghị khen thưởng nào được Hội đồng biểu quyết thông qua "
                              "(ghi kết quả bằng: danvan vote), nên chưa có gì để dự thảo quyết định.")
    prov = _province_name(res)
    cfg = _section("decision", prov)
    doc = d.new_document()
    _header(doc, cfg)
    summary = f"Về việc khen thưởng tập thể có thành tích trong {MOVEMENT} năm {period}"
    d.title_block(doc, "Quyết định", summary, draft=True)
    d.para(doc, cfg.get("authority", ""), size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, upper=True, space_after=6)
    for basis in [*cfg.get("extra_basis", []), *[b if b.startswith("Căn cứ") else f"Căn cứ {b}"
                                                for b in catalogue.legal_basis]]:
        d.body(doc, f"{basis};", italic=True)
    d.body(doc, f"Căn cứ kết quả chấm điểm, xếp hạng {MOVEMENT} năm {period} và kết quả biểu quyết của "
                "Hội đồng Thi đua - Khen thưởng;", italic=True)
    d.body(doc, f"{cfg.get('proposer', 'Theo đề nghị của Hội đồng Thi đua - Khen thưởng')}.", italic=True)
    d.para(doc, "QUYẾT ĐỊNH:", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    d.body(doc, lead="Điều 1.", text=f"Khen thưởng {len(won)} tập thể có thành tích xuất sắc trong {MOVEMENT} năm {period} "
                "(có danh sách kèm theo), gồm:")
    for code, n in won.groupby("award_code", sort=False).size().items():
        d.body(doc, f"- {catalogue.award(code).name}: {n} tập thể;")
    d.body(doc, lead="Điều 2.", text="Quyết định này có hiệu lực kể từ ngày ký.")
    d.body(doc, lead="Điều 3.", text=f"{cfg.get('implementers', 'Các cơ quan, đơn vị có liên quan')} chịu trách nhiệm thi hành "
                "Quyết định này./.")
    d.footer_block(doc, recipients=cfg.get("recipients", []), capacity=cfg.get("capacity", []),
                   signer=cfg.get("signer", ""))
    doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    d.para(doc, "DANH SÁCH", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    d.para(doc, f"Tập thể được khen thưởng trong {MOVEMENT} năm {period}", size=14, bold=True,
           align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    d.para(doc, f"(Kèm theo Quyết định {cfg.get('number', 'số')} ngày      tháng      năm {period} của "
                f"{cfg.get('annex_of', '')})".replace("Số:", "số"),
           size=13, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    d.data_table(doc, DECISION_ANNEX, annex_rows(won), widths_mm=[10, 50, 18, 47, 20, 20], align_right={0, 4})
    return doc


def annex_rows(won: pd.DataFrame) -> list[list[str]]:
    """The annex's rows, in the order of ``danvan awards --decided``."""
    return [[str(i + 1), r.unit_name, r.unit_code, r.award_name, vn(r.total), r.tier]
            for i, r in enumerate(won.itertuples(index=False))]


# --------------------------------------------------------------------------- minutes
MINUTES_TABLE = ["Mã", "Tiêu chí", "Điểm tối đa", "Tự chấm", "Thẩm định", "Lý do của người thẩm định", "Minh chứng"]


class MinutesSource:
    """What the minutes of one period read, loaded once: results, both stages of scores, reasons.

    The documents themselves are built and written one unit at a time (:func:`write_all_minutes`)."""

    def __init__(self, con, period: str, profile: WeightProfile | None = None):
        self.period = period
        self.fw = periods.framework_for_period(con, period)
        self.res = _results(con, period, profile, with_previous=False).set_index("unit_code", drop=False)
        s = period_scores(con, period, self.fw)
        s = s.assign(points=points_of(s["value"], s["criterion_code"], self.fw))
        self.scores = {u: g for u, g in s.groupby("unit_code", sort=False)}
        self.reasons = _reasons(con, period)
        self.criteria = [(g, c) for g in self.fw.groups for c in g.criteria]
        self.tier_names = {t.code: t.name for t in self.fw.tiers}

    def units(self) -> list[str]:
        return self.res["unit_code"].tolist()


def _reasons(con, period: str) -> pd.DataFrame | None:
    """The appraiser's reason per (unit, criterion), from a reasons table when the database has one."""
    have = set(con.execute("SELECT table_name FROM information_schema.tables").df()["table_name"])
    for name in REASON_TABLES:
        if name in have:
            cols = set(con.execute(f"SELECT * FROM {name} LIMIT 0").df().columns)
            if {"period", "unit_code", "criterion_code", "reason"} <= cols:
                return con.execute(f"SELECT unit_code, criterion_code, reason FROM {name} WHERE period = ?",
                                   [period]).df()
    return None


def minutes_document(src: MinutesSource, unit_code: str):
    """The appraisal minutes of one unit: per criterion self-score, appraised score, the appraiser's
    reason, evidence; totals and tier."""
    if unit_code not in src.res.index:
        raise d.DocumentError(f"Kỳ {src.period} không có điểm của đơn vị mã '{unit_code}'.")
    r = src.res.loc[unit_code]
    s = src.scores.get(unit_code, pd.DataFrame(columns=["criterion_code", "stage", "points", "evidence", "note"]))
    own = s[s["stage"] == "self"].set_index("criterion_code")
    appr = s[s["stage"] == "appraised"].set_index("criterion_code")
    reasons = {}
    if src.reasons is not None:
        mine = src.reasons[src.reasons["unit_code"] == unit_code]
        reasons = dict(zip(mine["criterion_code"], mine["reason"]))
    prov = re.sub(r"^(Tỉnh|Thành phố)\s+", "", str(r.get("province_name") or "……"))
    cfg = _section("minutes", prov)
    doc = d.new_document()
    _header(doc, cfg)
    d.title_block(doc, "Biên bản", f"Thẩm định kết quả chấm điểm {MOVEMENT} năm {src.period} của {r['unit_name']}")
    d.body(doc, f"Hôm nay, ngày      tháng      năm {date.today().year}, Tổ thẩm định tiến hành thẩm định kết quả tự chấm "
                f"điểm của {r['unit_name']} (mã {unit_code}, {r.get('province_name') or ''}; "
                f"{r.get('block_name') or 'chưa xếp khối'}) theo {src.fw.name} (phiên bản {src.fw.version}).")
    d.heading(doc, "I. Kết quả chấm điểm từng tiêu chí")
    rows = []
    for _g, c in src.criteria:
        sp = own["points"].get(c.code) if c.code in own.index else None
        ap = appr["points"].get(c.code) if c.code in appr.index else None
        ev = appr["evidence"].get(c.code) if c.code in appr.index else None
        ev = ev if isinstance(ev, str) and ev else (own["evidence"].get(c.code) if c.code in own.index else None)
        reason = reasons.get(c.code)
        if reason is None and c.code in appr.index:
            note = appr["note"].get(c.code)
            reason = note if isinstance(note, str) and note else None
        sign = "−" if c.kind.value == "penalty" else ("+" if c.kind.value == "bonus" else "")
        rows.append([c.code, c.name, f"{sign}{vn(c.max_points, 1)}",
                     "—" if c.appraiser_only else vn(sp), vn(ap), reason or "", ev or ""])
    d.data_table(doc, MINUTES_TABLE, rows, widths_mm=[11, 52, 14, 15, 17, 27, 29], size=10, align_right={2, 3, 4})
    d.heading(doc, "II. Tổng hợp")
    tier_self = r.get("tier_self")
    summary = [
        ["Tổng điểm tự chấm", vn(r.get("total_self"))],
        ["Tổng điểm thẩm định", vn(r["total"])],
        ["Chênh lệch (tự chấm − thẩm định)", vn(r.get("gap"))],
        ["Xếp loại theo điểm tự chấm", tier_self if isinstance(tier_self, str) else "—"],
        ["Xếp loại sau thẩm định", str(r["tier"])],
        ["Thứ hạng trong khối / trong tỉnh", f"{_int(r.get('block_rank'))} / {_int(r.get('province_rank'))}"],
        ["Trạng thái", STATUS_LABELS.get(r.get("status"), str(r.get("status")))],
        ["Điều kiện khen thưởng", "Đủ điều kiện" if bool(r.get("award_eligible")) else str(r.get("award_reason") or "—")],
    ]
    d.data_table(doc, ["Nội dung", "Kết quả"], summary, widths_mm=[85, 80], size=12)
    d.heading(doc, "III. Kết luận")
    if r.get("status") == "ranked":
        d.body(doc, f"Tổ thẩm định thống nhất: {r['unit_name']} đạt {vn(r['total'])} điểm, xếp loại {r['tier']}.")
    else:
        d.body(doc, f"{r['unit_name']} {r.get('award_reason') or INCOMPLETE}.")
    d.body(doc, "Biên bản được lập thành 02 bản có giá trị như nhau, đơn vị giữ 01 bản, Tổ thẩm định giữ 01 bản./.")
    d.footer_block(doc, recipients=cfg.get("recipients", []), capacity=cfg.get("capacity", []),
                   signer=cfg.get("signer", ""))
    return doc


def _int(x) -> str:
    return "—" if x is None or pd.isna(x) else str(int(x))


def write_all_minutes(src: MinutesSource, folder: Path, fmt: str = "docx", *, batch: int = 50) -> Iterator[Path]:
    """Write every unit's minutes into ``folder``, one unit at a time (a document is built, saved and
    dropped before the next one); PDF converts each batch of ``batch`` DOCX files in one LibreOffice run.
    Yields the paths as they are written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "docx":
        for u in src.units():
            path = folder / f"bien-ban-{src.period}-{u}.docx"
            minutes_document(src, u).save(str(path))
            yield path
        return
    with tempfile.TemporaryDirectory(prefix="danvan-minutes-") as tmp:
        pending: list[Path] = []
        for u in src.units():
            p = Path(tmp) / f"bien-ban-{src.period}-{u}.docx"
            minutes_document(src, u).save(str(p))
            pending.append(p)
            if len(pending) >= batch:
                yield from _convert(pending, folder)
                pending = []
        if pending:
            yield from _convert(pending, folder)


def _convert(docx: list[Path], folder: Path) -> Iterator[Path]:
    outs = d.to_pdf(docx, docx[0].parent)
    for src, pdf in zip(docx, outs):
        target = folder / pdf.name
        shutil.move(str(pdf), str(target))
        src.unlink(missing_ok=True)
        yield target


# --------------------------------------------------------------------------- report
def report_data(con, period: str, profile: WeightProfile | None = None, *, province: str | None = None,
                catalogue: Catalogue | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the report, as frames (the DOCX, the XLSX and the tests read these)."""
    fw = periods.framework_for_period(con, period)
    res = _results(con, period, profile, province)
    tier_order = [t.name for t in fw.tiers] + [INCOMPLETE, NOT_ELIGIBLE]  # the tier cell of a unit not ranked
    tiers = res["tier"].fillna(INCOMPLETE)
    by_tier = tiers.value_counts().reindex(tier_order, fill_value=0).rename_axis("tier").rename("units").reset_index()
    by_tier["share"] = (by_tier["units"] / max(1, len(res)) * 100).round(1)

    def cross(col: str, label: str) -> pd.DataFrame:
        keys = res[col].fillna("—")
        t = pd.crosstab(keys, tiers).reindex(columns=tier_order, fill_value=0)
        t["Tổng"] = t.sum(axis=1)
        return t.rename_axis(label).reset_index()

    by_province = cross("province_name", "Tỉnh")
    by_block = cross("block_name" if "block_name" in res.columns else "block", "Khối")
    prev_period = periods.previous_period(con, period)
    change = pd.DataFrame(columns=["tier", "previous", "current", "delta"])
    moves = pd.DataFrame(columns=["what", "value"])
    if prev_period:
        prev = _results(con, prev_period, None, province, with_previous=False)
        prev_t = prev["tier"].fillna(INCOMPLETE).value_counts().reindex(tier_order, fill_value=0)
        change = pd.DataFrame({"tier": tier_order, "previous": prev_t.to_numpy(), "current": by_tier["units"].to_numpy()})
        change["delta"] = change["current"] - change["previous"]
        dr = res["delta_rank"].astype("Float64")
        moves = pd.DataFrame({"what": ["Tăng hạng", "Giảm hạng", "Giữ nguyên hạng", "Không so sánh được",
                                       "Điểm bình quân kỳ trước", "Điểm bình quân kỳ này"],
                              "value": [int((dr > 0).sum()), int((dr < 0).sum()), int((dr == 0).sum()),
                                        int(dr.isna().sum()), round(float(prev.loc[prev["eligible"], "total"].mean()), 2),
                                        round(float(res.loc[res["eligible"], "total"].mean()), 2)]}, dtype=object)
        if crosswalk.across_merger(prev_period, period):  # the rank moves compare with figures mapped from the old units
            moves.loc[:3, "what"] = moves.loc[:3, "what"] + f" ({crosswalk.ESTIMATED_MARK})"
            moves.loc[4, "what"] = "Điểm bình quân kỳ trước (các đơn vị cũ)"
    units = res["unit_code"].tolist()
    fs = registry.counts_by_field_status(con, period, units)
    models = fs.pivot_table(index="field_name", columns="status_name", values="models", aggfunc="sum", sort=False)
    models["Tổng"] = models.sum(axis=1)
    models.loc["Tổng"] = models.sum(axis=0)
    models = models.rename_axis("Lĩnh vực").reset_index()
    models.columns.name = None
    listing = registry.list_models(con, period, with_items=False)
    listing = listing[isin(listing["unit_code"], units)]
    rec = listing[listing["status"].isin(RECOGNISED)]
    levels = (rec["level"].map(LEVEL_LABELS).fillna("Chưa ghi cấp").value_counts()
              .rename_axis("level").rename("models").reset_index())
    catalogue = catalogue or load_catalogue()
    props = period_proposals(con, period, profile, catalogue, res=res)
    won = decided(con, period, profile, catalogue, proposals=props)
    proposed = props[props["outcome"] == "proposed"]
    awards = pd.DataFrame([{"award": a.name, "level": a.level, "proposed": int((proposed["award_code"] == a.code).sum()),
                            "decided": int((won["award_code"] == a.code).sum())} for a in catalogue.in_order()])
    vetoed = res[res["vetoes"].fillna("").astype(str).str.len() > 0]
    flagged = pd.concat([
        vetoed.assign(why=vetoed["award_reason"]),
        res[res["status"] == "incomplete"].assign(why=lambda f: "Chưa đủ dữ liệu: " + f["missing"].fillna("").astype(str)),
        res[res["status"] == "not_eligible"].assign(why=lambda f: f["award_reason"].fillna(NOT_ELIGIBLE)),
    ])[["unit_code", "unit_name", "province_name", "status", "why"]]
    flagged["status"] = flagged["status"].map(STATUS_LABELS)
    derived_summary = derived.models_summary_by_unit(con, period, units)
    return {"by_tier": by_tier, "by_province": by_province, "by_block": by_block, "change": change, "moves": moves,
            "models": models, "recognised_levels": levels, "awards": awards, "decided": won, "flagged": flagged,
            "_meta": pd.DataFrame([{"period": period, "previous": prev_period, "units": len(res),
                                    "ranked": int((res["status"] == "ranked").sum()),
                                    "province": _province_name(res),
                                    "across_merger": crosswalk.across_merger(prev_period, period),
                                    "models": int(derived_summary["models_total"].sum())}])}


def _charts(data: dict[str, pd.DataFrame]) -> list[tuple[str, bytes]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = ["Liberation Serif", "DejaVu Serif", "serif"]
    out = []
    bt = data["by_tier"]
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=110)
    # long tier names ("Không đủ điều kiện xếp loại") wrapped, or the x labels run into each other
    labels = [textwrap.fill(str(t)[:1].upper() + str(t)[1:], 14) for t in bt["tier"]]
    colors = ["#1b7f3b", "#5aae61", "#3b7dd8", "#f0a030", "#d7301f", "#9e9e9e", "#616161"]
    ax.bar(labels, bt["units"], color=colors[:len(bt)])
    for i, v in enumerate(bt["units"]):
        ax.text(i, v, str(int(v)), ha="center", va="bottom", fontsize=9)
    ax.margins(y=0.15)                                 # room for the count above the tallest bar
    ax.set_ylabel("Số đơn vị")
    ax.set_title("Số đơn vị theo mức xếp loại")
    ax.tick_params(axis="x", labelsize=8)
    out.append(("Biểu đồ 1. Số đơn vị theo mức xếp loại", _png(fig, plt)))
    bp = data["by_province"].set_index("Tỉnh").drop(columns="Tổng")
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=110)
    bp.plot(kind="barh", stacked=True, ax=ax, color=["#1b7f3b", "#5aae61", "#3b7dd8", "#f0a030", "#d7301f",
                                                      "#9e9e9e"][:bp.shape[1]], width=0.6)
    ax.set_xlabel("Số đơn vị")
    ax.set_ylabel("")
    ax.set_title("Xếp loại theo tỉnh")
    ax.legend(fontsize=7, loc="lower right")
    out.append(("Biểu đồ 2. Xếp loại theo tỉnh", _png(fig, plt)))
    m = data["models"].set_index("Lĩnh vực").drop(index="Tổng").drop(columns="Tổng")
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=110)
    m.plot(kind="barh", stacked=True, ax=ax, width=0.6)
    ax.set_xlabel("Số mô hình")
    ax.set_ylabel("")
    ax.set_title("Mô hình “Dân vận khéo” theo lĩnh vực và trạng thái")
    ax.legend(fontsize=7, loc="lower right")
    out.append(("Biểu đồ 3. Mô hình theo lĩnh vực và trạng thái", _png(fig, plt)))
    return out


def _png(fig, plt) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


TIER_TABLE = ["Mức xếp loại", "Số đơn vị", "Tỷ lệ (%)"]


def report_document(con, period: str, kind: str = "tong-ket", profile: WeightProfile | None = None, *,
                    province: str | None = None, data: dict | None = None):
    if kind not in KINDS:
        raise d.DocumentError(f"Loại báo cáo '{kind}' không hỗ trợ (chọn: {', '.join(KINDS)})")
    data = data or report_data(con, period, profile, province=province)
    meta = data["_meta"].iloc[0]
    cfg = _section("report", meta["province"])
    doc = d.new_document()
    _header(doc, cfg)
    d.title_block(doc, "Báo cáo", f"{KINDS[kind]} {MOVEMENT} năm {period}")
    demo = " Số liệu trong báo cáo này là DỮ LIỆU MINH HỌA (tổng hợp ngẫu nhiên), không phải số liệu thật." \
        if store.is_demo(con) else ""
    d.body(doc, f"Kỳ {period} có {meta['units']} đơn vị được chấm điểm, {meta['ranked']} đơn vị đã xếp hạng; "
                f"sổ mô hình ghi nhận {meta['models']} mô hình “Dân vận khéo”.{demo}")
    d.heading(doc, "I. Kết quả xếp loại")
    bt = data["by_tier"]
    d.data_table(doc, TIER_TABLE, [[_cap(r.tier), int(r.units), vn(r.share, 1)] for r in bt.itertuples()] +
                 [["Tổng", int(bt["units"].sum()), "100,0"]], widths_mm=[80, 40, 40], align_right={1, 2})
    for caption, png in _charts(data)[:2]:
        d.add_picture(doc, png, 150)
        d.para(doc, caption, size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    d.heading(doc, "1. Theo tỉnh")
    _frame_table(doc, data["by_province"], size=10)
    d.heading(doc, "2. Theo khối, cụm thi đua")
    _frame_table(doc, data["by_block"], size=10)
    d.heading(doc, "II. So với kỳ trước")
    if data["change"].empty:
        d.body(doc, "Không có kỳ trước để so sánh.")
    else:
        d.body(doc, f"So với kỳ {meta['previous']}:")
        if meta.get("across_merger"):
            d.body(doc, f"Kỳ {meta['previous']} kết thúc trước 01/07/2025: số đơn vị theo xếp loại của kỳ đó là của "
                        "các đơn vị cấp xã cũ (trước sắp xếp); tăng, giảm hạng so với kỳ đó là "
                        f"{crosswalk.ESTIMATED_MARK} (điểm kỳ trước của mỗi đơn vị mới là bình quân có trọng số "
                        "điểm của các đơn vị cũ hợp thành).")
        d.data_table(doc, ["Mức xếp loại", f"Kỳ {meta['previous']}", f"Kỳ {period}", "Tăng (+) / giảm (−)"],
                     [[_cap(r.tier), int(r.previous), int(r.current), f"{int(r.delta):+d}".replace("-", "−")]
                      for r in data["change"].itertuples()], align_right={1, 2, 3})
        d.data_table(doc, ["Nội dung", "Kết quả"],
                     [[r.what, vn(r.value) if r.what.startswith("Điểm") else int(r.value)]
                      for r in data["moves"].itertuples()], align_right={1})
    d.heading(doc, "III. Mô hình “Dân vận khéo” theo lĩnh vực và trạng thái")
    _frame_table(doc, data["models"], size=10)
    charts = _charts(data)
    d.add_picture(doc, charts[2][1], 150)
    d.para(doc, charts[2][0], size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    d.heading(doc, "IV. Công nhận, khen thưởng")
    lv = data["recognised_levels"]
    d.data_table(doc, ["Cấp công nhận mô hình", "Số mô hình"], [[r.level, int(r.models)] for r in lv.itertuples()]
                 or [["—", 0]], align_right={1})
    d.data_table(doc, ["Hình thức khen thưởng", "Cấp", "Đề nghị", "Hội đồng thông qua"],
                 [[r.award, r.level, int(r.proposed), int(r.decided)] for r in data["awards"].itertuples()],
                 align_right={2, 3})
    d.heading(doc, "V. Đơn vị vi phạm điều kiện loại trừ, chưa đủ dữ liệu, không đủ điều kiện xếp loại")
    fl = data["flagged"]
    if fl.empty:
        d.body(doc, "Không có.")
    else:
        d.data_table(doc, ["Mã", "Đơn vị", "Tỉnh", "Trạng thái", "Lý do"],
                     [[r.unit_code, r.unit_name, r.province_name, r.status, r.why] for r in fl.itertuples()],
                     widths_mm=[15, 40, 30, 30, 50], size=10)
    d.heading(doc, "VI. Kiến nghị, khiếu nại về kết quả và việc giải quyết")
    d.body(doc, "Hệ thống chưa có sổ theo dõi kiến nghị, khiếu nại về kết quả chấm điểm; cơ quan thường trực "
                "tổng hợp mục này từ hồ sơ giải quyết (chưa có số liệu tự động).")
    d.footer_block(doc, recipients=cfg.get("recipients", []), capacity=cfg.get("capacity", []),
                   signer=cfg.get("signer", ""))
    return doc


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _frame_table(doc, frame: pd.DataFrame, *, size: float = 11) -> None:
    cols = [str(c) for c in frame.columns]
    rows = [[v if isinstance(v, str) else int(v) for v in row] for row in frame.itertuples(index=False)]
    d.data_table(doc, cols, rows, size=size, align_right=set(range(1, len(cols))))


XLSX_SHEETS = {"by_tier": "Xếp loại", "by_province": "Theo tỉnh", "by_block": "Theo khối", "change": "So với kỳ trước",
               "moves": "Biến động", "models": "Mô hình", "recognised_levels": "Cấp công nhận",
               "awards": "Khen thưởng", "decided": "Được thông qua", "flagged": "Đơn vị cần lưu ý"}


def report_xlsx(data: dict[str, pd.DataFrame], path: Path) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for key, sheet in XLSX_SHEETS.items():
            neutralise_formulas(data[key]).to_excel(xw, index=False, sheet_name=sheet[:31])
    return path
