"""Write the corpus of messy upload files and ``expected.json`` (their exact outcomes).

Run ``.venv/bin/python tests/data/uploads/make_corpus.py`` to regenerate. Every file is
what a Vietnamese Windows/Excel user really produces: BOMs, CRLF, ';' with decimal commas,
UTF-16 "Unicode text", Windows-1258, title rows in XLSX, numbers stored as text, stripped
leading zeros. Good files carry the exact rows they must give; bad ones the problems
(row as shown in Excel, column, and a word of the reason).
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent

# units and periods the tests' database holds (see tests/test_ingest.py)
UNITS = {
    "00004": "Phường Ba Đình",
    "00008": "Phường Ngọc Hà",
    "00097": "Xã Hồng Vân",
    "26734": "Xã Cần Giờ",
    "31012": "Đặc khu Phú Quốc",
}
PERIODS = ["2025", "2025-H1"]

cases: list[dict] = []


def case(name: str, content: bytes | None, *, rows=None, problems=None, layout=None, ignored=None,
         args=None, xlsx=None, note: str = "") -> None:
    if content is not None:
        (HERE / name).write_bytes(content)
    if xlsx is not None:
        xlsx(HERE / name)
    cases.append({"file": name, "args": args or {}, "rows": rows, "problems": problems, "layout": layout,
                  "ignored": ignored, "note": note})


def R(unit, period, crit, stage, value, evidence=None, note=None):
    return [unit, period, crit, stage, value, evidence, note]


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters (â, ơ, …) precomposed, tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in parts if c in _TONES)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


# ------------------------------------------------------------------ good files
case("long_utf8.csv",
     b"unit_code,period,criterion_code,score,stage,evidence,note\n"
     b"00004,2025,A1,1,self,https://ubnd.vn/kh-01.pdf,\n"
     b"00004,2025,A3,4.5,appraised,,\xc4\x91\xc3\xa3 s\xc6\xa1 k\xe1\xba\xbft\n"
     b"00008,2025,B3,6,,,\n",
     rows=[R("00004", "2025", "A1", "self", 1.0, "https://ubnd.vn/kh-01.pdf"),
           R("00004", "2025", "A3", "appraised", 4.5, None, "đã sơ kết"),
           R("00008", "2025", "B3", "appraised", 6.0)],
     layout="long", ignored=[], note="clean UTF-8; blank stage → appraised; count criterion above its cap is a raw count")

case("long_bom_crlf.csv",
     ("\ufeffunit_code,period,criterion_code,score\r\n00097,2025,A3,3\r\n26734,2025,D4,85\r\n").encode("utf-8"),
     rows=[R("00097", "2025", "A3", "appraised", 3.0), R("26734", "2025", "D4", "appraised", 85.0)],
     layout="long", note="Excel 'CSV UTF-8': BOM and CRLF")

case("long_semicolon_vi.csv",
     ("Mã đơn vị;Kỳ;Mã tiêu chí;Điểm;Giai đoạn;Minh chứng;Ghi chú\r\n"
      "00004;2025;A3;4,5;Tự chấm;Biên bản số 12;\r\n"
      "00004;2025;A3;4;Thẩm định;Biên bản số 12;Trừ 0,5 điểm vì chưa sơ kết\r\n"
      "31012;2025-H1;B4;92,5;thẩm định;;\r\n").encode("utf-8-sig"),
     rows=[R("00004", "2025", "A3", "self", 4.5, "Biên bản số 12"),
           R("00004", "2025", "A3", "appraised", 4.0, "Biên bản số 12", "Trừ 0,5 điểm vì chưa sơ kết"),
           R("31012", "2025-H1", "B4", "appraised", 92.5)],
     layout="long", note="Vietnamese Excel: ';' delimiter, decimal comma, Vietnamese headers and stage words")

case("long_utf16_tab.txt",
     ("\ufeff" + nfd("Mã xã\tKỳ đánh giá\tMã tiêu chí\tĐiểm\tVòng\tGhi chú") + "\r\n"
      "97\t2025\tb1\t1\ttự chấm\t" + nfd("Đã kiện toàn") + "\r\n"
      "8\t2025\tD2\t6\tthẩm định\t\r\n").encode("utf-16-le"),
     rows=[R("00097", "2025", "B1", "self", 1.0, None, "Đã kiện toàn"),
           R("00008", "2025", "D2", "appraised", 6.0)],
     layout="long", note="Excel 'Unicode text': UTF-16 LE with BOM, tabs; NFD text; stripped zeros; lower-case code")

case("long_cp1258.csv",
     to_cp1258("unit_code,period,criterion_code,score,note\r\n00004,2025,A1,1,Đã phát động\r\n"
               "26734,2025,B2,4,\"Công khai đủ, kịp thời\"\r\n"),
     rows=[R("00004", "2025", "A1", "appraised", 1.0, None, "Đã phát động"),
           R("26734", "2025", "B2", "appraised", 4.0, None, "Công khai đủ, kịp thời")],
     layout="long", note="Windows-1258 (legacy Vietnamese ANSI): decoded exactly, stored as NFC")

case("wide_utf8.csv",
     b"unit_code,period,A1,A3,B3,D4\n00004,2025,1,5,4,\n97,2025,0,2.5,,100\n",
     rows=[R("00004", "2025", "A1", "appraised", 1.0), R("00004", "2025", "A3", "appraised", 5.0),
           R("00004", "2025", "B3", "appraised", 4.0), R("00097", "2025", "A1", "appraised", 0.0),
           R("00097", "2025", "A3", "appraised", 2.5), R("00097", "2025", "D4", "appraised", 100.0)],
     layout="wide", note="wide layout; empty cells are simply not scored")

case("wide_names_no_period.csv",
     ("STT,Mã đơn vị,Tên đơn vị,A1 - Kế hoạch,A2 – Quy chế phối hợp,Người nhập\n"
      "1,00008,Phường Ngọc Hà,1,1,Lan\n2,26734,Xã Cần Giờ,0,1,Lan\n").encode("utf-8"),
     args={"period": "2025", "stage": "self"},
     rows=[R("00008", "2025", "A1", "self", 1.0), R("00008", "2025", "A2", "self", 1.0),
           R("26734", "2025", "A1", "self", 0.0), R("26734", "2025", "A2", "self", 1.0)],
     layout="wide", ignored=["STT", "Người nhập"],
     note="wide headers 'A1 - name'; period and stage from the arguments; extra columns ignored")

case("headers_plain_upper.csv",
     b"  MA DON VI , KY DANH GIA ,MA TIEU CHI,DIEM ,VONG\n00004,2025,a5,87.5,TU CHAM\n00004,2025,A5,80,THAM DINH\n",
     rows=[R("00004", "2025", "A5", "self", 87.5), R("00004", "2025", "A5", "appraised", 80.0)],
     layout="long", note="headers without diacritics, upper case, spaces around")

case("pass_fail_words.csv",
     ("unit_code,period,criterion_code,score\n00004,2025,A1,Đạt\n00008,2025,A1,không đạt\n"
      "00097,2025,B5,45%\n").encode("utf-8"),
     rows=[R("00004", "2025", "A1", "appraised", 1.0), R("00008", "2025", "A1", "appraised", 0.0),
           R("00097", "2025", "B5", "appraised", 45.0)],
     layout="long", note="'Đạt'/'không đạt' for pass/fail, '45%' for a ratio")

case("quoted_newline.csv",
     b'unit_code,period,criterion_code,score,note\n00004,2025,A3,3,"d\xc3\xb2ng 1\ndong 2"\n00008,2025,A3,2,"a, b"\n',
     rows=[R("00004", "2025", "A3", "appraised", 3.0, None, "dòng 1\ndong 2"),
           R("00008", "2025", "A3", "appraised", 2.0, None, "a, b")],
     layout="long", note="a line break and a comma inside quoted cells")

case("duplicate_identical.csv",
     b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n00004,2025,A3,3\n,,,\n",
     rows=[R("00004", "2025", "A3", "appraised", 3.0)],
     layout="long", note="the same row twice is kept once; a row of empty cells is ignored")

case("two_stage_columns.csv",
     ("Mã đơn vị,Kỳ,Mã tiêu chí,Điểm tự chấm,Điểm thẩm định\n00004,2025,B2,5,4\n00004,2025,E1,,5\n").encode(),
     rows=[R("00004", "2025", "B2", "self", 5.0), R("00004", "2025", "E1", "appraised", 5.0),
           R("00004", "2025", "B2", "appraised", 4.0)],
     layout="long", note="one column per stage, common in Vietnamese score sheets")

case("csv_title_rows.csv",
     ("BẢNG TỰ CHẤM ĐIỂM “DÂN VẬN KHÉO” NĂM 2025,,,\r\nĐơn vị: Phường Ba Đình,,,\r\n,,,\r\n"
      "Mã đơn vị,Kỳ,A1,A3\r\n4,2025,1,4\r\n").encode("utf-8-sig"),
     rows=[R("00004", "2025", "A1", "appraised", 1.0), R("00004", "2025", "A3", "appraised", 4.0)],
     layout="wide", note="title rows above the header in a CSV saved from Excel")


def xlsx_title_rows(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tự chấm"
    ws.append(["BẢNG TỰ CHẤM ĐIỂM THI ĐUA “DÂN VẬN KHÉO” NĂM 2025"])
    ws.append(["Đơn vị: Phường Ba Đình"])
    ws.append([])
    ws.append(["Mã đơn vị", "Kỳ", "Mã tiêu chí", "Điểm", "Ghi chú"])
    ws.append([4, 2025, "A3", "4,5", None])  # code as a number (zeros stripped), score as text
    ws.append(["00004", "2025", "B3", " 3 ", "nhập tay"])
    ws.append([97, 2025.0, "D4", 90.0, None])
    ws.append([None, None, None, None, None])
    wb.save(path)


case("xlsx_title_rows.xlsx", None, xlsx=xlsx_title_rows,
     rows=[R("00004", "2025", "A3", "appraised", 4.5), R("00004", "2025", "B3", "appraised", 3.0, None, "nhập tay"),
           R("00097", "2025", "D4", "appraised", 90.0)],
     layout="long", note="title rows above the header; numbers stored as text; code as a number")


def xlsx_two_sheets(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Hướng dẫn"
    ws.append(["Điền điểm vào trang 'Thẩm định'"])
    ws2 = wb.create_sheet("Thẩm định")
    ws2.append(["unit_code", "period", "E1", "E2", "E3"])
    ws2.append(["31012", "2025", 5.5, 1, 1])
    wb.save(path)


case("xlsx_named_sheet.xlsx", None, xlsx=xlsx_two_sheets, args={"sheet": "Thẩm định"},
     rows=[R("31012", "2025", "E1", "appraised", 5.5), R("31012", "2025", "E2", "appraised", 1.0),
           R("31012", "2025", "E3", "appraised", 1.0)],
     layout="wide", note="a named sheet, wide layout")

# ------------------------------------------------------------------ bad files
case("unknown_unit.csv",
     ("unit_code,period,criterion_code,score\n00004,2025,A3,3\n00009,2025,A3,3\n").encode(),
     problems=[[3, "unit_code", "00009", "có phải '00008'"]], note="closest code suggested")
case("unknown_unit_by_name.csv",
     ("Mã xã,Tên xã,Kỳ,Mã tiêu chí,Điểm\n55555,Xa Can Gio,2025,A3,3\n").encode(),
     problems=[[2, "Mã xã", "55555", "có phải '26734' (Xã Cần Giờ)"]], note="closest unit found by its name")
case("unknown_criterion.csv",
     b"unit_code,period,criterion_code,score\n00004,2025,A9,3\n00004,2025,A3,3\n",
     problems=[[2, "criterion_code", "A9", "không có tiêu chí"]])
case("wide_unknown_criterion.csv",
     b"unit_code,period,A1,Z7\n00004,2025,1,3\n",
     problems=[[None, "Z7", None, "mã tiêu chí"]])
case("out_of_range.csv",
     b"unit_code,period,criterion_code,score\n00004,2025,A3,5.5\n00004,2025,A1,2\n00004,2025,P3,-1\n00004,2025,D4,-3\n",
     problems=[[2, "score", "5.5", "từ 0 đến 5"], [3, "score", "2", "đạt"], [4, "score", "-1", "số dương"],
               [5, "score", "-3", "không âm"]])
case("non_numeric.csv",
     b"Ma don vi;Ky;Ma tieu chi;Diem\n00004;2025;A3;abc\n00004;2025;B3;4.000,5\n",
     problems=[[2, "Diem", "abc", "phải là số"], [3, "Diem", "4.000,5", "phải là số"]])
case("duplicate_conflict.csv",
     b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n00008,2025,A3,3\n00004,2025,A3,4\n",
     problems=[[4, None, "4", "trùng với dòng 2"]])
case("appraiser_only_self.csv",
     b"unit_code,period,criterion_code,score,stage\n00004,2025,E1,5,self\n",
     problems=[[2, "score", "5", "cấp trên"]])
case("missing_column.csv",
     b"unit_code,period,score\n00004,2025,3\n",
     problems=[[None, None, None, "thiếu cột bắt buộc"]])
case("no_unit_column.csv",
     b"period,criterion_code,score\n2025,A3,3\n",
     problems=[[None, None, None, "không tìm thấy dòng tiêu đề"]])
case("empty.csv", b"", problems=[[None, None, None, "tệp trống"]])
case("header_only.csv", b"unit_code,period,criterion_code,score\r\n", problems=[[None, None, None, "chỉ có dòng tiêu đề"]])
case("not_tabular.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", problems=[[None, None, None, "PDF"]])
case("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, problems=[[None, None, None, "không phải tệp CSV"]])
case("old_excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, problems=[[None, None, None, ".xls"]])
case("zip_not_xlsx.xlsx", b"PK\x03\x04" + b"\x00" * 200, problems=[[None, None, None, "XLSX"]])
case("ragged.csv",
     b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n00004,2025,A4\n00008,2025,A3,2,x,y\n00008,2025,A4,1,,\n",
     problems=[[3, None, None, "dòng có 3 ô"], [4, None, None, "dòng có 6 ô"]],
     note="trailing empty cells are tolerated (row 5), missing or extra cells are not")
case("blank_lines_row_numbers.csv",
     b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n\n\n00004,2025,B3,x\n",
     problems=[[5, "score", "x", "phải là số"]], note="blank lines count as rows, as in Excel")
case("no_period.csv", b"unit_code,criterion_code,score\n00004,A3,3\n",
     problems=[[None, None, None, "không có kỳ đánh giá"]])
case("blank_period_cell.csv", b"unit_code,period,criterion_code,score\n00004,,A3,3\n",
     problems=[[2, "period", None, "không có kỳ đánh giá"]])
case("bad_period.csv", b"unit_code,period,criterion_code,score\n00004,2025-X,A3,3\n",
     problems=[[2, "period", "2025-X", "kỳ đánh giá không hợp lệ"]])
case("unknown_period.csv", b"unit_code,period,criterion_code,score\n00004,2031,A3,3\n00004,2031,A4,3\n",
     problems=[[2, "period", "2031", "2 dòng"]], note="a period the database does not have (import only)")
case("bad_stage.csv", b"unit_code,period,criterion_code,score,stage\n00004,2025,A3,3,final\n",
     problems=[[2, "stage", "final", "giai đoạn không hợp lệ"]])
case("tcvn3.csv", b"unit_code,period,criterion_code,score,note\n00004,2025,A3,3,\xb8\xb5\xb6 \xac\xad\n",
     problems=[[None, None, None, "bảng mã"]], note="TCVN3/VNI bytes: refused, never stored as mojibake")
case("mojibake.csv", "unit_code,period,criterion_code,score,note\n00004,2025,A3,3,Ä‘Ã£ sÆ¡ káº¿t\n".encode(),
     problems=[[None, None, None, "mojibake"]], note="UTF-8 that was already misread once")
case("too_large.csv", b"unit_code,period,criterion_code,score\n" + b"00004,2025,A3,3\n" * 200,
     args={"max_bytes": 1000}, problems=[[None, None, None, "quá lớn"]])
case("duplicate_header.csv", b"unit_code,Ma don vi,period,criterion_code,score\n00004,00004,2025,A3,3\n",
     problems=[[None, "Ma don vi", None, "cùng là"]])

(HERE / "expected.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(f"{len(cases)} files written to {HERE}")
