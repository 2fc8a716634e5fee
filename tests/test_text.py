"""The one NFC, the one fold and the bidi cleaning every module uses."""

import unicodedata

from danvan_scoring import insights, text
from danvan_scoring.text import BIDI_CONTROLS, clean, fold, has_bidi, nfc, show, strip_bidi


def test_nfc_composes():
    decomposed = unicodedata.normalize("NFD", "Thẩm định")
    assert decomposed != "Thẩm định"
    assert nfc(decomposed) == "Thẩm định"


def test_fold_is_case_diacritics_punctuation_and_space_insensitive():
    assert fold("Mã  Đơn-vị") == "ma don vi"
    assert fold("  Xã ĐỨC   Đồng ") == "xa duc dong"
    assert fold(unicodedata.normalize("NFD", "Phường Bến Nghé")) == "phuong ben nghe"
    assert fold("Kỳ đánh giá\t(period)") == "ky danh gia period"
    assert fold(12345) == "12345"


def test_one_fold_for_search_and_matching():
    # the search box (insights) and header matching (ingest) use the same function
    assert insights.fold is text.fold
    from danvan_scoring import ingest
    assert ingest.fold is text.fold


def test_search_ignores_extra_spaces_and_punctuation():
    import pandas as pd

    res = pd.DataFrame({"unit_code": ["00001", "00002"], "unit_name": ["Xã Đức Đồng", "Phường Bến Nghé"]})
    for q in ("duc dong", "ĐỨC  ĐỒNG", "Đức-Đồng"):
        assert insights.filter_results(res, search=q)["unit_code"].tolist() == ["00001"], q


def test_strip_bidi_removes_every_direction_control():
    assert len(BIDI_CONTROLS) == 9
    for ch in BIDI_CONTROLS:
        assert has_bidi(f"a{ch}b")
        assert strip_bidi(f"Xã{ch} An") == "Xã An"
    assert strip_bidi("\u202eAn Phú\u202c") == "An Phú"
    assert not has_bidi("Xã An Phú — ‘ổn’")
    assert strip_bidi("Xã An Phú") == "Xã An Phú"


def test_clean_is_nfc_without_bidi():
    assert clean(unicodedata.normalize("NFD", "\u2066Điểm\u2069")) == "Điểm"


def test_show_escapes_controls_and_cuts():
    assert show("a\nb") == "a\\nb"
    assert show("\u202eabc") == "\\u202eabc"
    assert show("x" * 100, limit=10) == "x" * 9 + "…"
