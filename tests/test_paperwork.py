"""The documents: decision with its annex, appraisal minutes, the report — read back from the files."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess

import pandas as pd
import pytest
from docx import Document
from docx.shared import Mm
from test_cli import no_traceback, run

from danvan_scoring import paperwork, store
from danvan_scoring.permissions import Actor
from danvan_scoring.votes import period_proposals, record_vote

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

COUNCIL = Actor("hoidong", "council")


@pytest.fixture(scope="module")
def voted_db(demo_db_template, tmp_path_factory):
    """The demo with the council's votes: the first four proposals pass, the fifth fails."""
    path = tmp_path_factory.mktemp("voted") / "v.duckdb"
    shutil.copy(demo_db_template, path)
    con = store.connect(path)
    p = period_proposals(con, "2025")
    for i, r in enumerate(p[p["outcome"] == "proposed"].head(5).itertuples()):
        record_vote(con, "2025", r.unit_code, r.award_code, 3 if i == 4 else 8, 5 if i == 4 else 1, 1,
                    actor=COUNCIL, proposals=p)
    con.close()
    return path


def csv(*args, db):
    p = run(*args, db=db)
    assert p.returncode == 0, p.stderr
    return pd.read_csv(io.StringIO(p.stdout), dtype=str)


def text_of(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_decision_annex_rows_are_the_decided_awards(voted_db, tmp_path):
    out = tmp_path / "qd.docx"
    p = run("decision", "--period", "2025", "--format", "docx", "-o", str(out), db=voted_db)
    assert p.returncode == 0, p.stderr
    doc = Document(str(out))
    decided = csv("awards", "--period", "2025", "--decided", db=voted_db)
    assert len(decided) == 4
    annex = doc.tables[-1]
    rows = [[c.text for c in r.cells] for r in annex.rows]
    assert rows[0] == paperwork.DECISION_ANNEX
    assert [[r[2], r[3]] for r in rows[1:]] == decided[["unit_code", "award_name"]].values.tolist()
    assert [r[4] for r in rows[1:]] == [f"{float(t):.2f}".replace(".", ",") for t in decided["total"]]
    assert [r[5] for r in rows[1:]] == decided["tier"].tolist()
    body = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells) + text_of(doc)
    for part in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "QUYẾT ĐỊNH", "Số:",
                 "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022",
                 "Nghị định số 98/2023/NĐ-CP", "Điều 1.", "Điều 3.", "Nơi nhận:", "DANH SÁCH"):
        assert part in body, part
    sec = doc.sections[0]
    assert (round(sec.page_width / Mm(1)), round(sec.page_height / Mm(1))) == (210, 297)
    assert round(sec.left_margin / Mm(1)) in range(30, 36) and round(sec.right_margin / Mm(1)) in range(15, 21)
    assert round(sec.top_margin / Mm(1)) in range(20, 26) and round(sec.bottom_margin / Mm(1)) in range(20, 26)
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size.pt in (13, 14)


def test_decision_pdf_is_a_real_pdf_with_the_title_and_first_annex_row(voted_db, tmp_path):
    out = tmp_path / "qd.pdf"
    p = run("decision", "--period", "2025", "--format", "pdf", "-o", str(out), db=voted_db)
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "QUYẾT ĐỊNH" in text
    first = csv("awards", "--period", "2025", "--decided", db=voted_db).iloc[0]
    total = f"{float(first.total):.2f}".replace(".", ",")
    assert any(first.unit_name in line and first.unit_code in line and total in line for line in text.splitlines())
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(out), str(png)], check=True)
    shot = next(tmp_path.glob("page*.png"))
    assert shot.stat().st_size > 5000


def test_no_decided_award_no_decision(demo_db, tmp_path):
    p = run("decision", "--period", "2025", "-o", str(tmp_path / "x.docx"), db=demo_db)
    assert p.returncode == 1 and "chưa có đề nghị khen thưởng nào" in p.stderr
    no_traceback(p)
    assert not (tmp_path / "x.docx").exists()


def test_report_tier_table_equals_rank_counts_and_models_equal_models(voted_db, tmp_path):
    out = tmp_path / "bc.docx"
    p = run("report", "--period", "2025", "--kind", "tong-ket", "--format", "docx", "-o", str(out), db=voted_db)
    assert p.returncode == 0, p.stderr
    doc = Document(str(out))
    assert "Tổng kết" in text_of(doc)
    tables: dict = {}
    for t in doc.tables:                             # the first table of each heading
        tables.setdefault(t.rows[0].cells[0].text, t)
    tiers = {r.cells[0].text.lower(): int(r.cells[1].text) for r in tables["Mức xếp loại"].rows[1:]}
    rank = csv("rank", "--period", "2025", db=voted_db)
    counts = rank["tier"].value_counts().to_dict()
    assert tiers.pop("tổng") == len(rank)
    assert {k: v for k, v in tiers.items() if v} == {k.lower(): v for k, v in counts.items()}
    models = csv("models", "--period", "2025", db=voted_db)
    grid = tables["Lĩnh vực"]
    head = [c.text for c in grid.rows[0].cells]
    got = {(r.cells[0].text, head[i]): int(r.cells[i].text) for r in grid.rows[1:-1] for i in range(1, len(head) - 1)}
    want = models.groupby(["field_name", "status_name"]).size().to_dict()
    assert {k: v for k, v in got.items() if v} == want
    assert int(grid.rows[-1].cells[-1].text) == len(models)
    awards = tables["Hình thức khen thưởng"]
    proposed = csv("awards", "--period", "2025", db=voted_db)["award_name"].value_counts().to_dict()
    decided = csv("awards", "--period", "2025", "--decided", db=voted_db)["award_name"].value_counts().to_dict()
    for r in awards.rows[1:]:
        name = r.cells[0].text
        assert int(r.cells[2].text) == proposed.get(name, 0) and int(r.cells[3].text) == decided.get(name, 0)
    assert len(doc.inline_shapes) == 3               # three charts as images
    assert "DỮ LIỆU MINH HỌA" in text_of(doc)


def test_report_xlsx_and_pdf(voted_db, tmp_path):
    x = tmp_path / "bc.xlsx"
    assert run("report", "--period", "2025", "--kind", "so-ket", "--format", "xlsx", "-o", str(x), db=voted_db).returncode == 0
    sheet = pd.read_excel(x, sheet_name="Xếp loại")
    rank = csv("rank", "--period", "2025", db=voted_db)
    assert int(sheet["units"].sum()) == len(rank)
    pdf = tmp_path / "bc.pdf"
    p = run("report", "--period", "2025", "--kind", "so-ket", "--format", "pdf", "-o", str(pdf), db=voted_db)
    assert p.returncode == 0, p.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "BÁO CÁO" in text and "Sơ kết" in text


def test_minutes_of_one_unit_list_every_criterion_with_both_scores(voted_db, tmp_path):
    rank = csv("rank", "--period", "2025", db=voted_db)
    unit = rank.iloc[0]
    out = tmp_path / "bb.docx"
    p = run("minutes", "--period", "2025", "--unit", unit.unit_code, "--format", "docx", "-o", str(out), db=voted_db)
    assert p.returncode == 0, p.stderr
    doc = Document(str(out))
    crit = doc.tables[1]
    assert [c.text for c in crit.rows[0].cells] == paperwork.MINUTES_TABLE
    scores = csv("scores", "--period", "2025", db=voted_db)
    mine = scores[scores["unit_code"] == unit.unit_code]
    codes = [r.cells[0].text for r in crit.rows[1:]]
    assert set(mine["criterion_code"]) <= set(codes)
    ev = mine[(mine["stage"] == "appraised") & mine["evidence"].notna()].iloc[0]
    row = next(r for r in crit.rows[1:] if r.cells[0].text == ev.criterion_code)
    assert row.cells[6].text == ev.evidence
    summary = {r.cells[0].text: r.cells[1].text for r in doc.tables[2].rows[1:]}
    assert summary["Tổng điểm thẩm định"] == f"{float(unit.total):.2f}".replace(".", ",")
    assert summary["Xếp loại sau thẩm định"] == unit.tier


def test_minutes_all_streams_one_unit_at_a_time(voted_db, tmp_path):
    con = store.connect(voted_db, read_only=True)
    src = paperwork.MinutesSource(con, "2025")
    gen = paperwork.write_all_minutes(src, tmp_path / "bb")
    first = list(itertools.islice(gen, 2))             # a generator: two written, the rest not yet
    assert len(first) == 2 and len(list((tmp_path / "bb").iterdir())) == 2
    gen.close()
    con.close()
    out = tmp_path / "all"
    p = run("minutes", "--period", "2025", "--all", "--format", "docx", "-o", str(out), db=voted_db)
    assert p.returncode == 0, p.stderr
    files = sorted(out.glob("*.docx"))
    assert len(files) == len(csv("rank", "--period", "2025", db=voted_db))
    assert Document(str(files[0])).tables[1].rows[0].cells[0].text == "Mã"


def test_first_page_of_each_document_renders_to_png(voted_db, tmp_path):
    """Decision, minutes and report through the same converter the pages use, each first page as
    an image in test-artifacts/documents/ — to be looked at, not only counted."""
    from pathlib import Path

    shots = Path(__file__).resolve().parents[1] / "test-artifacts" / "documents"
    shots.mkdir(parents=True, exist_ok=True)
    unit = csv("rank", "--period", "2025", db=voted_db).iloc[0].unit_code
    docs = {"quyet-dinh": ("decision", "--period", "2025"),
            "bien-ban": ("minutes", "--period", "2025", "--unit", unit),
            "bao-cao": ("report", "--period", "2025", "--kind", "tong-ket")}
    for name, args in docs.items():
        pdf = tmp_path / f"{name}.pdf"
        p = run(*args, "--format", "pdf", "-o", str(pdf), db=voted_db)
        assert p.returncode == 0, p.stderr
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", "-f", "1", "-l", "1", str(pdf),
                        str(shots / name)], check=True)
        shot = shots / f"{name}.png"
        # an A4 page at 60 dpi is 496 × 702 px; a blank page compresses to almost nothing
        assert shot.stat().st_size > 8000, f"{name}: the first page looks empty"


def test_report_change_since_a_pre_merger_period_carries_the_mark(voted_db):
    """The demo's 2024 is on the old communes: the rank moves since then are estimates, and say so."""
    from danvan_scoring import crosswalk, paperwork, store

    con = store.connect(voted_db, read_only=True)
    try:
        data = paperwork.report_data(con, "2025")
        before = paperwork.report_data(con, "2024")
    finally:
        con.close()
    whats = data["moves"]["what"].tolist()
    assert all(crosswalk.ESTIMATED_MARK in w for w in whats[:4]) and "các đơn vị cũ" in whats[4]
    assert bool(data["_meta"].iloc[0]["across_merger"])
    # 2024 against 2023: old units against old units, no mark
    assert not any(crosswalk.ESTIMATED_MARK in w for w in before["moves"]["what"])
    assert not bool(before["_meta"].iloc[0]["across_merger"])
