"""documents: the administrative-document building blocks (Nghị định 30/2020 layout) and their files."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from danvan_scoring import documents


def test_date_line_names_the_place_and_a_draft_leaves_the_day_blank():
    assert documents.date_line("Hà Tĩnh", date(2026, 12, 5)) == "Hà Tĩnh, ngày 05 tháng 12 năm 2026"
    draft = documents.date_line("Hà Tĩnh")
    assert draft.startswith("Hà Tĩnh, ngày ") and "05" not in draft


def test_settings_file_loads_and_a_broken_one_is_one_line(tmp_path):
    assert isinstance(documents.settings(), dict)
    bad = tmp_path / "documents.yaml"
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(documents.DocumentError, match="phải là một bảng"):
        documents.settings(bad)


def test_a_document_with_header_title_table_and_footer_is_a_docx_in_times_new_roman():
    doc = documents.new_document()
    documents.header_block(doc, superior="TỈNH ỦY HÀ TĨNH", issuer="BAN DÂN VẬN", number="01/BC-BDV",
                           place_date=documents.date_line("Hà Tĩnh", date(2026, 1, 2)))
    documents.title_block(doc, "BÁO CÁO", "Kết quả chấm điểm")
    documents.data_table(doc, ["Mã", "Đơn vị"], [["18304", "Xã Đức Đồng"]])
    documents.footer_block(doc, recipients=["Như trên"], capacity=["TRƯỞNG BAN"], signer="Nguyễn Văn A")
    data = documents.to_bytes(doc, "docx")
    back = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in back.paragraphs)
    assert documents.QUOC_HIEU in "\n".join(c.text for t in back.tables for r in t.rows for c in r.cells) + text
    assert "Xã Đức Đồng" in [c.text for t in back.tables for r in t.rows for c in r.cells]
    assert back.styles["Normal"].font.name == documents.FONT
