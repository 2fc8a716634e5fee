"""Property-based fuzzing of the reader: random bytes and random edits of a good file
never raise, never yield rows that break the contract, and never write part of a file."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_ingest import FW, UNITS, make_db, snapshot

from danvan_scoring import batches
from danvan_scoring.ingest import ScoreRow, import_file, read_upload
from danvan_scoring.permissions import CLI_ACTOR
from danvan_scoring.uploads import ParsedUpload, UploadRejected

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

GOOD_LINES = [
    ["unit_code", "period", "criterion_code", "score", "stage", "evidence", "note"],
    ["00004", "2025", "A1", "1", "self", "https://x/1.pdf", ""],
    ["00004", "2025", "A3", "4.5", "appraised", "", "đã sơ kết"],
    ["00008", "2025", "B3", "3", "", "", ""],
    ["00097", "2025-H1", "D4", "85", "thẩm định", "", "Ghi chú, có dấu phẩy"],
    ["26734", "2025", "E1", "5", "appraised", "", ""],
]


def check_contract(parsed: ParsedUpload) -> None:
    assert isinstance(parsed, ParsedUpload)
    assert parsed.ok == (not parsed.problems)
    assert parsed.problem_count >= len([p for p in parsed.problems if p.row is not None])
    for p in parsed.problems:
        assert isinstance(p.reason, str) and p.reason and isinstance(p.line(), str)
        assert p.row is None or p.row >= 1
    if parsed.ok:
        assert set(parsed.rows["unit_code"]) <= set(UNITS)
        for r in parsed.rows.head(50).to_dict("records"):
            ScoreRow.model_validate({k: (None if isinstance(v, float) and np.isnan(v) and k != "value" else v)
                                     for k, v in r.items()})


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(data):
    check_contract(read_upload(data, "x.csv", framework=FW, unit_codes=UNITS))


@FUZZ
@given(st.binary(max_size=1500), st.sampled_from([b"unit_code,period,criterion_code,score\n",
                                                   b"\xef\xbb\xbfMa don vi;Ky;A1;A3\r\n",
                                                   b"PK\x03\x04", b"\xff\xfe"]))
def test_random_bytes_after_a_plausible_start_never_raise(tail, head):
    check_contract(read_upload(head + tail, "x.csv", framework=FW, unit_codes=UNITS, period="2025"))


cell_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", '"', '""', ",", ";", "\t", "\n", "\r\n", "-1", "1e309", "nan", "inf", "5,5",
                     "=1+1", "00004", "4", "A1", "a3", "Z9", "self", "tự chấm", "2025", "2025-H3", "\x00",
                     "\ufeff", "Ä‘", "đạt"]),
)
edit = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 5), st.integers(0, 6), cell_text),
    st.tuples(st.just("drop_cell"), st.integers(0, 5), st.integers(0, 6), st.just("")),
    st.tuples(st.just("dup_line"), st.integers(0, 5), st.just(0), st.just("")),
    st.tuples(st.just("drop_line"), st.integers(0, 5), st.just(0), st.just("")),
    st.tuples(st.just("blank_line"), st.integers(0, 5), st.just(0), st.just("")),
    st.tuples(st.just("extra_cell"), st.integers(0, 5), st.just(0), cell_text),
)


def render(lines: list[list[str]], delimiter: str, encoding: str, newline: str) -> bytes:
    text = newline.join(delimiter.join(cells) for cells in lines) + newline
    if encoding == "utf-16":
        return text.encode("utf-16")
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    return text.encode("utf-8")


def apply_edits(edits) -> list[list[str]]:
    lines = [list(r) for r in GOOD_LINES]
    for op, i, j, text in edits:
        if not lines:
            break
        i = i % len(lines)
        if op == "set":
            if lines[i]:
                lines[i][j % len(lines[i])] = text
        elif op == "drop_cell" and lines[i]:
            del lines[i][j % len(lines[i])]
        elif op == "dup_line":
            lines.insert(i, list(lines[i]))
        elif op == "drop_line":
            del lines[i]
        elif op == "blank_line":
            lines.insert(i, [])
        elif op == "extra_cell":
            lines[i].append(text)
    return lines


@pytest.fixture(scope="module")
def fuzz_con():
    con = make_db()
    yield con
    con.close()


@FUZZ
@given(st.lists(edit, max_size=6), st.sampled_from([",", ";", "\t"]),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), st.sampled_from(["\n", "\r\n"]))
def test_random_row_edits_import_all_or_nothing(fuzz_con, edits, delimiter, encoding, newline):
    con = fuzz_con
    data = render(apply_edits(edits), delimiter, encoding, newline)
    before = snapshot(con)
    entries_before = len(before[0])
    try:
        res = import_file(con, data, "fuzz.csv", actor=CLI_ACTOR)
    except UploadRejected as rej:
        event("rejected")
        assert rej.problems and all(p.line() for p in rej.problems)
        assert snapshot(con) == before  # nothing written
        return
    event("accepted")
    # accepted: exactly the file's rows, as one batch (or nothing new at all)
    parsed = res.parsed
    assert parsed.ok and res.new + res.changed + res.unchanged == len(parsed.rows)
    entries_after = len(snapshot(con)[0])
    assert entries_after - entries_before == res.new + res.changed
    cur = batches.current_scores(con).set_index(["unit_code", "period", "criterion_code", "stage"])["value"]
    for r in parsed.rows.itertuples():
        assert cur.loc[(r.unit_code, r.period, r.criterion_code, r.stage)] == r.value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=800), st.sampled_from([b"", b"unit_code,period,criterion_code,score\n",
                                                  b"unit_code,period,criterion_code,score\n00004,2025,A3,3\n"]))
def test_random_bytes_import_writes_all_or_nothing(fuzz_con, tail, head):
    before = snapshot(fuzz_con)
    try:
        res = import_file(fuzz_con, head + tail, "x.csv", actor=CLI_ACTOR)
    except UploadRejected as rej:
        assert rej.count >= 1
        assert snapshot(fuzz_con) == before
        return
    assert len(snapshot(fuzz_con)[0]) - len(before[0]) == res.new + res.changed


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-10, 100000), st.floats(allow_nan=True),
                                   st.text(max_size=8), st.booleans()), min_size=1, max_size=6),
                max_size=6),
       st.integers(0, 3))
def test_random_xlsx_never_raises(rows, title_rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(title_rows):
        ws.append(["BẢNG ĐIỂM"])
    ws.append(["Mã đơn vị", "Kỳ", "Mã tiêu chí", "Điểm"])
    for r in rows:
        try:
            ws.append(r)
        except Exception:  # openpyxl refuses some control characters; not what we test
            continue
    buf = io.BytesIO()
    wb.save(buf)
    check_contract(read_upload(buf.getvalue(), "x.xlsx", framework=FW, unit_codes=UNITS))
