"""The shared upload types and the read guard: an unexpected error is logged with its
traceback and the user gets one Vietnamese line with the same error id."""

from __future__ import annotations

import logging
import re

from danvan_scoring import model_upload, uploads
from danvan_scoring.criteria import default_framework
from danvan_scoring.errors import StoreError
from danvan_scoring.ingest import _Reader, read_upload
from danvan_scoring.uploads import ParsedUpload, Problem, Problems, read_safely


def _boom():
    raise KeyError("nội bộ")


def _rejected(problems):
    return ParsedUpload(None, problems, [], "long", "h", problem_count=len(problems))


def _error_id(parsed) -> str:
    m = re.search(r"mã lỗi ([0-9a-f]{8})", parsed.problems[0].reason)
    assert m, parsed.problems[0].reason
    return m.group(1)


def test_read_safely_logs_traceback_and_names_the_error_id(caplog):
    with caplog.at_level(logging.ERROR, logger="danvan_scoring.uploads"):
        parsed = read_safely(_boom, "x.csv", _rejected)
    assert not parsed.ok
    reason = parsed.problems[0].reason
    assert reason.startswith("lỗi không mong đợi khi đọc tệp (KeyError")
    eid = _error_id(parsed)
    rec = [r for r in caplog.records if eid in r.getMessage()]
    assert rec and rec[0].exc_info and "x.csv" in rec[0].getMessage()


def test_score_and_model_readers_both_log(monkeypatch, caplog):
    monkeypatch.setattr(_Reader, "_validate", lambda self, t: _boom())
    monkeypatch.setattr(model_upload, "_header_lookup", lambda rubric: _boom())
    with caplog.at_level(logging.ERROR, logger="danvan_scoring.uploads"):
        a = read_upload(b"unit_code,period,A1\n18073,2025,1\n", "a.csv", framework=default_framework(),
                        unit_codes={"18073": "X"})
        b = model_upload.read_models_upload(b"x", "b.csv", unit_codes={})
    ids = {_error_id(a), _error_id(b)}
    assert len(ids) == 2
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert all(i in logged for i in ids)


def test_problems_lists_the_first_and_counts_the_rest():
    p = Problems()
    for i in range(uploads.MAX_LISTED + 5):
        p.add(Problem(i + 2, None, None, "x"))
    listed = p.listed()
    assert len(listed) == uploads.MAX_LISTED + 1 and "còn 5 lỗi khác" in listed[-1].reason
    assert p.total == uploads.MAX_LISTED + 5


def test_problem_line_escapes_controls():
    assert Problem(3, "note", "a\u202eb", "lý do").line() == "Dòng 3, cột 'note': 'a\\u202eb' — lý do"


def test_a_failed_write_is_logged_and_told_in_one_line(caplog):
    def write(*a, **k):
        raise ValueError("Constraint Error: duplicate key\nchi tiết")

    with caplog.at_level(logging.ERROR, logger="danvan_scoring.uploads"):
        try:
            uploads.explain_write_errors(write)
        except StoreError as exc:
            msg = str(exc)
    assert msg == ("Không ghi được vào cơ sở dữ liệu: Constraint Error: duplicate key. "
                   "Không có dữ liệu nào được ghi.")
    assert any(r.exc_info for r in caplog.records)
