"""Vietnamese administrative documents as DOCX (python-docx), and PDF through LibreOffice.

The layout follows Nghị định 30/2020/NĐ-CP (công tác văn thư), Phụ lục I: A4 portrait; margins
top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm; Times New Roman; body 13–14 pt.
The header is a two-column block: on the left the issuing body (its superior in plain capitals,
itself in bold capitals, a short rule) and the number and symbol ("Số: …/QĐ-UBND"); on the right
the national title (quốc hiệu, bold capitals 12–13 pt), the motto (tiêu ngữ, bold 13–14 pt, a
rule beneath) and the place and date (italic). Then the document kind in bold capitals, its
summary (trích yếu, bold, a rule beneath), the body, and at the foot "Nơi nhận:" (bold italic
12 pt, recipients 11 pt) beside the signature block (capacity in bold capitals, the signer's
name in bold).

python-docx was chosen over docxtpl: every document here is built from tables of the library,
so code that lays them out is simpler than a Jinja template with loops, and the layout lives
in one place. What a province words differently (issuing body, signer, recipients, place)
is data: ``data/templates/documents.yaml``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from .errors import StoreError
from .messages import read_yaml
from .paths import DATA_DIR

log = logging.getLogger(__name__)

TEMPLATES_DIR = DATA_DIR / "templates"
SETTINGS_FILE = TEMPLATES_DIR / "documents.yaml"
FONT = "Times New Roman"
BODY_PT = 14
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
FORMATS = ("docx", "pdf")


class DocumentError(StoreError):
    """A document that cannot be produced (no converter, a conversion that failed)."""


def settings(path: Path | None = None) -> dict:
    """The wording a province edits: issuing body, signer, recipients, place."""
    path = path or SETTINGS_FILE
    data = read_yaml(path, DocumentError, "tệp mẫu văn bản")
    if not isinstance(data, dict):
        raise DocumentError(f"{path.name}: nội dung phải là một bảng (mapping) YAML")
    return data


def date_line(place: str, day: date | None = None) -> str:
    """"Hà Tĩnh, ngày 05 tháng 12 năm 2026" (a draft leaves the day for the signer: "ngày    tháng …")."""
    if day is None:
        return f"{place}, ngày      tháng      năm {date.today().year}"
    return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


# --------------------------------------------------------------------------- the page
def new_document(*, landscape: bool = False):
    """An empty A4 document with the decree's margins and Times New Roman 14 pt as the body."""
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    if landscape:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.left_margin, sec.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    pf = style.paragraph_format
    pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(6), 1.15
    return doc


def text_width(doc) -> int:
    sec = doc.sections[0]
    return sec.page_width - sec.left_margin - sec.right_margin


def para(container, text: str = "", *, size: float | None = None, bold: bool = False, italic: bool = False,
         align=None, upper: bool = False, space_after: float | None = None, indent_first: bool = False):
    p = container.add_paragraph()
    if text:
        run = p.add_run(text.upper() if upper else text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    if space_after is not None:
        p.paragraph_format.space_after = Pt(space_after)
    if indent_first:
        p.paragraph_format.first_line_indent = Mm(10)
    return p


def short_rule(container, width_mm: float, container_mm: float) -> None:
    """A solid rule ``width_mm`` long, centred (under the issuing body, the motto and the summary):
    an empty 2 pt paragraph whose bottom border the indents cut to length."""
    p = container.add_paragraph()
    p_pr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    p_pr.append(borders)
    side = max(0.0, (container_mm - width_mm) / 2)
    fmt = p.paragraph_format
    fmt.left_indent, fmt.right_indent = Mm(side), Mm(side)
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(4), Pt(2)
    p.add_run("").font.size = Pt(2)


def set_widths(table, widths_mm: list[float]) -> None:
    """Column widths that Word and LibreOffice both honour (the grid and every cell)."""
    table.autofit = False
    for col, w in zip(table.columns, widths_mm):
        col.width = Mm(w)
    for row in table.rows:
        for c, w in zip(row.cells, widths_mm):
            c.width = Mm(w)


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "nil")
        borders.append(e)
    tbl_pr.append(borders)


def header_block(doc, *, superior: str, issuer: str, number: str, place_date: str,
                 left_mm: float = 62) -> None:
    """Issuing body and number on the left, national title, motto and place-date on the right."""
    width_mm = text_width(doc) / Mm(1)
    right_mm = width_mm - left_mm
    t = doc.add_table(rows=1, cols=2)
    _no_borders(t)
    set_widths(t, [left_mm, right_mm])
    left, right = t.rows[0].cells
    lp = left.paragraphs[0]
    lp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    lp.paragraph_format.space_after = Pt(0)
    if superior:
        r = lp.add_run(superior.upper())
        r.font.size = Pt(12)
        para(left, issuer, size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, upper=True, space_after=0)
    else:
        r = lp.add_run(issuer.upper())
        r.bold = True
        r.font.size = Pt(12)
    short_rule(left, min(30, left_mm - 10), left_mm - 4)
    para(left, number, size=13, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    rp = right.paragraphs[0]
    rp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    rp.paragraph_format.space_after = Pt(0)
    r = rp.add_run(QUOC_HIEU)
    r.bold = True
    r.font.size = Pt(12)
    para(right, TIEU_NGU, size=13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    short_rule(right, 58, right_mm - 4)
    para(right, place_date, size=14, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "", space_after=6)


def title_block(doc, kind: str, summary: str, *, draft: bool = False) -> None:
    """The kind ("QUYẾT ĐỊNH") in bold capitals and its summary (trích yếu) in bold, a rule beneath."""
    if draft:
        para(doc, "DỰ THẢO", size=12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=0)
    para(doc, kind, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, upper=True, space_after=0)
    para(doc, summary, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    short_rule(doc, 40, text_width(doc) / Mm(1))
    para(doc, "", space_after=0)


def heading(doc, text: str, *, size: float = 14) -> None:
    para(doc, text, size=size, bold=True, space_after=6)


def body(doc, text: str, *, italic: bool = False, bold: bool = False, lead: str = "") -> None:
    """A justified body paragraph, first line indented; ``lead`` ("Điều 1.") in bold before it."""
    p = para(doc, "", align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=True, space_after=6)
    if lead:
        p.add_run(lead + " ").bold = True
    r = p.add_run(text)
    r.italic, r.bold = italic, bold


def _table_style(doc, size: float, bold: bool = False):
    """A paragraph style for table cells of one size (set once per document: cheaper than per run)."""
    from docx.enum.style import WD_STYLE_TYPE

    name = f"Danvan bảng {size:g}{' đậm' if bold else ''}"
    try:
        return doc.styles[name]
    except KeyError:
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = doc.styles["Normal"]
        st.font.size = Pt(size)
        st.font.bold = bold
        st.paragraph_format.space_after = Pt(0)
        st.paragraph_format.line_spacing = 1.0
        return st


def data_table(doc, headers: list[str], rows, *, widths_mm: list[float] | None = None, size: float = 12,
               align_right: set[int] | None = None):
    """A bordered table: a bold header row, then ``rows`` (an iterable of sequences), 12 pt."""
    align_right = align_right or set()
    # the style id set on the XML directly: python-docx's ``p.style = …`` looks the style up every time
    plain, strong = _table_style(doc, size).style_id, _table_style(doc, size, bold=True).style_id
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, h in enumerate(headers):
        p = t.rows[0].cells[i].paragraphs[0]
        p._p.get_or_add_pPr().style = strong
        p.add_run(h)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _repeat_header(t.rows[0])
    for row in rows:
        cells = t.add_row().cells
        for i, v in enumerate(row):
            p = cells[i].paragraphs[0]
            p._p.get_or_add_pPr().style = plain
            p.add_run("" if v is None else str(v))
            if i in align_right:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths_mm:
        set_widths(t, widths_mm)
    para(doc, "", space_after=0)
    return t


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    h = OxmlElement("w:tblHeader")
    h.set(qn("w:val"), "true")
    tr_pr.append(h)


def footer_block(doc, *, recipients: list[str], capacity: list[str], signer: str, left_mm: float = 75) -> None:
    """"Nơi nhận:" and its list on the left, the signature block on the right."""
    width_mm = text_width(doc) / Mm(1)
    t = doc.add_table(rows=1, cols=2)
    _no_borders(t)
    set_widths(t, [left_mm, width_mm - left_mm])
    left, right = t.rows[0].cells
    lp = left.paragraphs[0]
    lp.paragraph_format.space_after = Pt(0)
    r = lp.add_run("Nơi nhận:")
    r.bold, r.italic = True, True
    r.font.size = Pt(12)
    for i, name in enumerate(recipients):
        end = "." if i == len(recipients) - 1 else ";"
        para(left, f"- {name}{end}", size=11, space_after=0)
    rp = right.paragraphs[0]
    rp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    rp.paragraph_format.space_after = Pt(0)
    for i, line in enumerate(capacity):
        if i == 0:
            r = rp.add_run(line.upper())
            r.bold = True
            r.font.size = Pt(14)
        else:
            para(right, line.upper(), size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(right, "(Ký, ghi rõ họ tên, đóng dấu)", size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    for _ in range(3):
        para(right, "", space_after=0)
    para(right, signer, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)


def add_picture(doc, png: bytes | Path, width_mm: float = 150) -> None:
    import io

    stream = io.BytesIO(png) if isinstance(png, bytes | bytearray) else str(png)
    doc.add_picture(stream, width=Mm(width_mm))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


# --------------------------------------------------------------------------- saving, PDF
def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx_paths: list[Path], out_dir: Path, *, timeout: int = 600) -> list[Path]:
    """Convert DOCX files to PDF with LibreOffice headless (one process for the whole list)."""
    exe = soffice()
    if exe is None:
        raise DocumentError("Không tìm thấy LibreOffice (soffice) để xuất PDF. Cài gói Debian libreoffice-writer "
                            "(scripts/test.sh cài sẵn khi chạy kiểm thử), hoặc xuất DOCX.")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="danvan-lo-") as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, docx_paths)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               env=dict(os.environ, HOME=profile))
        except subprocess.TimeoutExpired:
            raise DocumentError(f"LibreOffice không xuất xong PDF sau {timeout} giây.") from None
    outs = [out_dir / (Path(d).stem + ".pdf") for d in docx_paths]
    missing = [o.name for o in outs if not o.exists()]
    if p.returncode != 0 or missing:
        log.error("soffice failed (%s): %s %s", p.returncode, p.stdout, p.stderr)
        raise DocumentError(f"LibreOffice không xuất được PDF ({', '.join(missing) or p.returncode}).")
    return outs


def save(doc, path: Path, fmt: str) -> Path:
    """Write ``doc`` to ``path`` as DOCX, or as PDF (converted from a temporary DOCX)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise DocumentError(f"Định dạng '{fmt}' không hỗ trợ (chọn: {', '.join(FORMATS)})")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "docx":
        doc.save(str(path))
        return path
    with tempfile.TemporaryDirectory(prefix="danvan-doc-") as tmp:
        src = Path(tmp) / (path.stem + ".docx")
        doc.save(str(src))
        (pdf,) = to_pdf([src], Path(tmp))
        shutil.move(str(pdf), str(path))
    return path


def to_bytes(doc, fmt: str) -> bytes:
    """The document as the bytes of a DOCX or PDF file (for a download button)."""
    if fmt == "docx":
        import io

        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
    with tempfile.TemporaryDirectory(prefix="danvan-dl-") as tmp:
        path = save(doc, Path(tmp) / f"van-ban.{fmt}", fmt)
        return path.read_bytes()
