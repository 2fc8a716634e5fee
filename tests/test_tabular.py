"""The one file reader (tabular) — limits and spreadsheet bombs (issue 11 point 1), repeated
columns and direction controls (point 9), and the same guarantees for the model reader."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from danvan_scoring import model_upload, tabular
from danvan_scoring.criteria import V2_FRAMEWORK_FILE, load_framework
from danvan_scoring.ingest import read_upload

ROOT = Path(__file__).resolve().parent.parent
FW = load_framework(V2_FRAMEWORK_FILE)   # the demo's framework (five bands, P4)
CODE = next(code for code, c in FW.criteria.items() if not c.derived)
UNITS = {"18073": "Xã Can Lộc", "18076": "Xã Tùng Lộc"}


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """The XLSX ``data`` with some parts replaced or added (deflated)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, body in (add or {}).items():
            z.writestr(name, body)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def dimension_bomb(last_cell: str = "XFD1048576", header: bool = False) -> bytes:
    """A tiny XLSX that declares A1:XFD1048576 and has one cell in its last row."""
    first = ('<row r="1"><c r="A1" t="inlineStr"><is><t>unit_code</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>period</t></is></c>'
             f'<c r="C1" t="inlineStr"><is><t>{CODE}</t></is></c></row>') if header else ""
    row = "".join(ch for ch in last_cell if ch.isdigit())
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {NS}>'
             f'<dimension ref="A1:XFD1048576"/><sheetData>{first}'
             f'<row r="{row}"><c r="{last_cell}"><v>1</v></c></row></sheetData></worksheet>').encode()
    return rezip(xlsx([["x"]]), replace={SHEET: sheet})


def read(data: bytes, **kw):
    return read_upload(data, "bom.xlsx", framework=FW, unit_codes=UNITS, period="2025", **kw)


def reasons(parsed) -> str:
    return " | ".join(p.line() for p in parsed.problems)


def test_dimension_bomb_is_refused_fast_without_allocating_the_declared_grid():
    data = dimension_bomb()
    assert len(data) < 10_000
    t = time.perf_counter()
    parsed = read(data)
    assert time.perf_counter() - t < 20
    assert not parsed.ok
    text = reasons(parsed)
    assert "16.384 cột" in text and "giới hạn 500 cột" in text, text


def test_declared_dimension_is_never_trusted_for_a_normal_file():
    # a real table whose <dimension> claims the whole sheet: read as the cells that exist
    data = dimension_bomb(last_cell="C3", header=True)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read(SHEET).decode()
    sheet = sheet.replace('<row r="3"><c r="C3"><v>1</v></c></row>',
                          '<row r="3"><c r="A3" t="inlineStr"><is><t>18073</t></is></c>'
                          '<c r="B3"><v>2025</v></c><c r="C3"><v>1</v></c></row>')
    parsed = read(rezip(data, replace={SHEET: sheet.encode()}))
    assert parsed.ok, reasons(parsed)
    assert parsed.rows["unit_code"].tolist() == ["18073"]
    assert parsed.header_row == 1


def test_huge_shared_string_is_refused_before_opening():
    data = xlsx([["unit_code", "period", CODE], ["18073", "2025", 1]])
    big = (f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="1" uniqueCount="1"><si><t>'
           + "a" * 60_000_000 + "</t></si></sst>").encode()
    bomb = rezip(data, replace={"xl/sharedStrings.xml": big} if "xl/sharedStrings.xml" in
                 zipfile.ZipFile(io.BytesIO(data)).namelist() else None, add=None if "xl/sharedStrings.xml" in
                 zipfile.ZipFile(io.BytesIO(data)).namelist() else {"xl/sharedStrings.xml": big})
    assert len(bomb) < 1_000_000
    parsed = read(bomb)
    assert not parsed.ok
    assert "sharedStrings.xml" in reasons(parsed) and "lần" in reasons(parsed), reasons(parsed)


def test_too_many_zip_entries_are_refused():
    data = rezip(xlsx([["unit_code"]]), add={f"xl/media/p{i}.bin": b"" for i in range(1_001)})
    parsed = read(data)
    assert not parsed.ok
    assert "phần nén" in reasons(parsed) and "1.000" in reasons(parsed), reasons(parsed)


def test_high_ratio_entry_is_refused():
    data = rezip(xlsx([["unit_code"]]), add={"xl/media/zeros.bin": b"\0" * 50_000_000})
    parsed = read(data)
    assert not parsed.ok and "nén" in reasons(parsed) and "giới hạn 200 lần" in reasons(parsed), reasons(parsed)


def test_declared_sizes_are_bounded_by_env_limits(monkeypatch):
    data = xlsx([["unit_code", "period", CODE], ["18073", "2025", 1]])
    assert read(data).ok
    monkeypatch.setenv("DANVAN_MAX_ENTRY_BYTES", "100")
    parsed = read(data)
    assert not parsed.ok and "vượt giới hạn" in reasons(parsed)


def test_row_column_and_cell_limits_are_configurable():
    rows = [["unit_code", "period", CODE]] + [["18073", "2025", 1], ["18076", "2025", 1]]
    data = xlsx(rows)
    assert read(data).ok, reasons(read(data))
    info: dict = {}
    grid = tabular.read_grid(data, header_score=lambda c: 1.0 if "unit_code" in c else None,
                             no_header=lambda rows: "x", limits=tabular.Limits(max_rows=1), info=info)
    assert isinstance(grid, list) and "giới hạn 1 dòng" in grid[0].reason
    grid = tabular.read_grid(data, header_score=lambda c: 1.0 if "unit_code" in c else None,
                             no_header=lambda rows: "x", limits=tabular.Limits(max_columns=2))
    assert isinstance(grid, list) and "giới hạn 2 cột" in grid[0].reason
    csv = "unit_code,period,note\n18073,2025," + "x" * 40 + "\n"
    grid = tabular.read_grid(csv.encode(), header_score=lambda c: 1.0 if "unit_code" in c else None,
                             no_header=lambda rows: "x", limits=tabular.Limits(max_cell_chars=10))
    assert isinstance(grid, list) and grid[0].row == 2 and grid[0].column == "note" and "40 ký tự" in grid[0].reason


def test_a_cell_longer_than_excel_allows_is_refused():
    # openpyxl itself cuts what it writes at 32,767 characters: build the sheet by hand
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>unit_code</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>note</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>18073</t></is></c>'
             '<c r="B2" t="inlineStr"><is><t>' + "x" * 40_000 + '</t></is></c></row></sheetData></worksheet>')
    parsed = read(rezip(xlsx([["x"]]), replace={SHEET: sheet.encode()}))
    assert not parsed.ok and "40.000 ký tự" in reasons(parsed) and "Dòng 2" in reasons(parsed), reasons(parsed)
    csv = f"unit_code,period,{CODE},note\n18073,2025,1,{'x' * 40_000}\n".encode()
    parsed = read_upload(csv, "x.csv", framework=FW, unit_codes=UNITS)
    assert not parsed.ok and "40.000 ký tự" in reasons(parsed) and "Dòng 2" in reasons(parsed), reasons(parsed)


def test_repeated_columns_are_refused():
    header = ",".join(["unit_code", "period", CODE] + ["Ghi chú thêm"] * 10_000)
    data = (header + "\n18073,2025,1" + "," * 10_000 + "\n").encode()
    parsed = read_upload(data, "x.csv", framework=FW, unit_codes=UNITS)
    assert not parsed.ok
    assert "10.003 cột" in reasons(parsed) and "giới hạn 500 cột" in reasons(parsed), reasons(parsed)
    hundred = ",".join(["unit_code", "period", CODE] + ["Ghi chú thêm"] * 100)
    parsed = read_upload((hundred + "\n18073,2025,1" + "," * 100 + "\n").encode(), "x.csv", framework=FW,
                         unit_codes=UNITS)
    assert not parsed.ok and "cột 'Ghi chú thêm' lặp lại 100 lần" in reasons(parsed), reasons(parsed)
    small = ("unit_code,period," + CODE + ",x,x\n18073,2025,1,,\n").encode()
    parsed = read_upload(small, "x.csv", framework=FW, unit_codes=UNITS)
    assert not parsed.ok and "cột 'x' lặp lại 2 lần" in reasons(parsed)


def test_direction_overrides_are_stripped_from_imported_text():
    data = f"unit_code,period,{CODE},note\n18073,2025,1,\u202eabc\u202c ghi chú\n".encode()
    parsed = read_upload(data, "x.csv", framework=FW, unit_codes=UNITS)
    assert parsed.ok, reasons(parsed)
    assert parsed.rows["note"].tolist() == ["abc ghi chú"]
    parsed = read(xlsx([["unit_code", "period", CODE, "note"], ["18073", "2025", 1, "\u2066x\u2069"]]))
    assert parsed.rows["note"].tolist() == ["x"]


def test_model_reader_has_the_score_readers_guarantees():
    units = {"18073": "Xã Can Lộc"}
    broken = "Mã đơn vị,Tên mô hình,Lĩnh vực,Kỳ\n18073,Mô hình \ufffd,Kinh tế,2025\n".encode()
    p = model_upload.read_models_upload(broken, "m.csv", unit_codes=units)
    assert not p.ok and "\ufffd" in p.problems[0].reason
    p = model_upload.read_models_upload(dimension_bomb(), "m.xlsx", unit_codes=units)
    assert not p.ok and "giới hạn 500 cột" in p.problems[0].reason
    typo = "Mã đơn vị,Tên mô hình,Lĩnh vực,Kỳ\n18037,Mô hình A,Kinh tế,2025\n".encode()
    p = model_upload.read_models_upload(typo, "m.csv", unit_codes=units)
    assert not p.ok and "có phải '18073'" in p.problems[0].reason, p.problems[0].reason
    # a form feed inside a cell is not a line break (str.splitlines would split it)
    ff = "Mã đơn vị,Tên mô hình,Lĩnh vực,Kỳ\n18073,Mô hình\x0cA,Kinh tế,2025\n".encode()
    p = model_upload.read_models_upload(ff, "m.csv", unit_codes=units)
    assert p.problems == [] or all(pr.row in (None, 2) for pr in p.problems)


@pytest.mark.slow
def test_bombs_keep_a_reader_process_bounded():
    """Each bomb read in a fresh process: it answers with a refusal and its peak RSS stays
    far below what the declared sizes would need (the old reader grew ~150 MB/s)."""
    script = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'tests')!r})
        import test_tabular as t
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        parsed = t.read(t.dimension_bomb())
        assert not parsed.ok
        print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    base, peak = map(int, p.stdout.split())
    assert peak - base < 150 * 1024, (base, peak)  # KiB: under 150 MB above the libraries
