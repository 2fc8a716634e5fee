"""Evidence files: sniffed types, size limit, content-addressed storage, dedup, refusals audited."""

from __future__ import annotations

import io
import zipfile

import pytest
from cycle_support import ADMIN, EXE, HTML, PDF, PNG, SCRIPT, SVG, self_assessment_con, two_units, unit_actor  # noqa: F401

from danvan_scoring import evidence
from danvan_scoring.evidence import EvidenceRejected
from danvan_scoring.permissions import PermissionDenied

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

P = "2025"


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODS = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})


@pytest.mark.parametrize("data, mime", [
    (PDF, "application/pdf"), (PNG, "image/png"), (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
    (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (ODS, "application/vnd.oasis.opendocument.spreadsheet")])
def test_accepted_types_are_read_from_the_bytes(data, mime):
    assert evidence.sniff(data) == mime


@pytest.mark.parametrize("data, word", [(HTML, "HTML"), (SVG, "SVG"), (EXE, "chạy được"), (SCRIPT, "tập lệnh"),
                                        (_zip({"a.txt": b"x"}), "nén"), (b"hello", "không nhận ra")])
def test_refused_types_say_why(data, word):
    with pytest.raises(EvidenceRejected, match=word):
        evidence.sniff(data)


def test_add_stores_identical_bytes_once_and_gives_them_back(con, tmp_path):
    u, v = two_units(con)
    a = evidence.add(con, PDF, file_name="qd.pdf", unit=u, period=P, criterion="A1", actor=unit_actor(u))
    b = evidence.add(con, PDF, file_name="khac.pdf", unit=v, period=P, criterion="A2", actor=unit_actor(v))
    assert a.sha256 == b.sha256 and not a.deduplicated and b.deduplicated
    assert len([p for p in (tmp_path / "ev").rglob("*") if p.is_file()]) == 1
    row, data = evidence.get(con, b.evidence_id)
    assert data == PDF and row["file_name"] == "khac.pdf"
    assert evidence.list_files(con, P).columns.tolist() == evidence.COLUMNS
    with pytest.raises(evidence.StoreError, match="đơn vị mình"):
        evidence.get(con, b.evidence_id, actor=unit_actor(u))            # another unit's file
    assert evidence.list_files(con, P, actor=unit_actor(u))["unit_code"].tolist() == [u]


def test_a_refused_file_writes_nothing_and_is_audited(con, tmp_path):
    u, _ = two_units(con)
    n = con.execute("SELECT count(*) FROM audit_log WHERE action = 'denied:evidence.add'").fetchone()[0]
    for data in (HTML, PDF + b"x" * 100):
        with pytest.raises(EvidenceRejected):
            evidence.add(con, data, file_name="a.pdf", unit=u, period=P, criterion="A1", actor=unit_actor(u),
                         limit=100)
    assert evidence.list_files(con, P).empty and not (tmp_path / "ev").exists()
    assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'denied:evidence.add'").fetchone()[0] == n + 2


def test_the_size_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("DANVAN_MAX_EVIDENCE_BYTES", "10")
    with pytest.raises(EvidenceRejected, match="vượt giới hạn"):
        evidence.check_file(PDF)
    monkeypatch.delenv("DANVAN_MAX_EVIDENCE_BYTES")
    assert evidence.max_bytes() == 20 * 1024 * 1024


def test_the_wrong_unit_cannot_add_or_remove(con):
    u, v = two_units(con)
    got = evidence.add(con, PDF, file_name="qd.pdf", unit=u, period=P, criterion="A1", actor=unit_actor(u))
    with pytest.raises(PermissionDenied):
        evidence.add(con, PDF, file_name="qd.pdf", unit=u, period=P, criterion="A1", actor=unit_actor(v))
    with pytest.raises(PermissionDenied):
        evidence.remove(con, got.evidence_id, actor=unit_actor(v))
    evidence.remove(con, got.evidence_id, actor=unit_actor(u))         # before submission: allowed
    assert evidence.list_files(con, P).empty


def test_in_the_cycle_evidence_required_is_met_by_a_file_not_by_a_reference(con):
    import pandas as pd

    u, _ = two_units(con)
    scores = pd.DataFrame([{"unit_code": u, "criterion_code": "A1", "stage": "appraised", "value": 1.0,
                            "evidence": "QĐ 12/QĐ-UBND"}])
    out = evidence.with_files(con, P, scores)
    assert out["evidence"].isna().all() and out["evidence_note"].tolist() == ["QĐ 12/QĐ-UBND"]
    evidence.add(con, PDF, file_name="qd.pdf", unit=u, period=P, criterion="A1", actor=unit_actor(u))
    assert evidence.with_files(con, P, scores)["evidence"].tolist() == [f"1 {evidence.FILE_MARK}"]
