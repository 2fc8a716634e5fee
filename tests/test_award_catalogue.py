"""award_catalogue: the catalogue file's model — caps, order, lookups and unreadable files.
(The catalogue's use in proposals is tested in test_proposals.py.)"""

from __future__ import annotations

import pytest

from danvan_scoring.award_catalogue import Cap, CatalogueError, load_catalogue, parse_catalogue

AWARDS = [
    {"code": "bk", "name": "Bằng khen", "level": "tỉnh", "family": "f", "rank": 2, "caps": [{"per": "block", "count": 2}]},
    {"code": "dvk", "name": "Dân vận khéo", "level": "tỉnh", "family": "m", "rank": 1,
     "caps": [{"per": "province", "share": 0.3}]},
    {"code": "co", "name": "Cờ thi đua", "level": "tỉnh", "family": "f", "rank": 1, "caps": [{"per": "block", "count": 1}]},
]


def test_a_share_cap_rounds_down_and_a_count_cap_is_fixed():
    assert Cap(per="province", share=0.3).limit(10) == 3
    assert Cap(per="province", share=0.3).limit(9) == 2
    assert Cap(per="block", count=2).limit(100) == 2
    assert Cap(per="province", share=0.3).label() == "tối đa 30% số đơn vị đã xếp hạng của mỗi tỉnh"


def test_a_cap_needs_exactly_one_of_count_and_share():
    with pytest.raises(ValueError, match="đúng một trong hai"):
        Cap(per="block", count=1, share=0.5)


def test_awards_in_order_family_by_family_highest_first():
    cat = parse_catalogue({"code": "t", "name": "thử", "awards": AWARDS})
    assert [a.code for a in cat.in_order()] == ["co", "bk", "dvk"]
    assert cat.award("dvk").name == "Dân vận khéo"
    with pytest.raises(CatalogueError, match="có: bk, dvk, co"):
        cat.award("khong")


def test_unreadable_or_broken_files_are_one_vietnamese_line(tmp_path):
    with pytest.raises(CatalogueError, match="không đọc được"):
        load_catalogue(tmp_path / "khong-co.yaml")
    bad = tmp_path / "hong.yaml"
    bad.write_text("awards: [1, 2\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="YAML không hợp lệ"):
        load_catalogue(bad)
