"""templates: the upload templates (long and wide) and how they are written."""

from __future__ import annotations

import io

import pytest

from danvan_scoring.criteria import default_framework
from danvan_scoring.templates import template_frame, write_template


def test_long_template_has_a_row_per_unit_and_typed_in_criterion():
    fw = default_framework()
    typed = [c for c, crit in fw.criteria.items() if not crit.derived]
    df = template_frame(fw, ["00001", "00002"], "2025")
    assert len(df) == 2 * len(typed)
    assert set(df["criterion_code"]) == set(typed)
    assert df["score"].isna().all()


def test_wide_template_has_a_column_per_criterion():
    fw = default_framework()
    df = template_frame(fw, {"00002": "b", "00001": "a"}, "2025", layout="wide")
    assert df["unit_code"].tolist() == ["00001", "00002"]
    assert {c for c, crit in fw.criteria.items() if not crit.derived} <= set(df.columns)
    with pytest.raises(ValueError, match="không hợp lệ"):
        template_frame(fw, [], "2025", layout="cheo")


def test_csv_template_has_a_bom_and_neutralised_formulas():
    fw = default_framework()
    df = template_frame(fw, ["00001"], "2025")
    df.loc[0, "note"] = "=HYPERLINK(\"http://x\")"
    buf = io.BytesIO()
    write_template(df, buf, "csv")
    data = buf.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK" in data.decode("utf-8-sig")
