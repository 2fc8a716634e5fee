"""Evidence files (minh chứng): bytes in a content-addressed folder, metadata in the database.

The type is sniffed from the content, never from the name: PDF, JPEG, PNG, DOCX, XLSX, ODT and
ODS are accepted; HTML, SVG, scripts, executables and anything unknown are refused. Identical
bytes are stored once (the file is named by its SHA-256). Adding is possible while the period's
state allows self-assessment; removing only before the unit submitted. Every add is audited.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import lifecycle, store
from .errors import Refused, StoreError
from .paths import DATA_DIR
from .permissions import Actor

COLUMNS = ["evidence_id", "unit_code", "period", "criterion_code", "file_name", "size", "sha256", "mime",
           "uploaded_by", "uploaded_at"]
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
ACCEPTED = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
}
ACCEPTED_LABEL = "PDF, JPEG, PNG, DOCX, XLSX, ODT, ODS"


class EvidenceRejected(Refused):
    """The file was refused (type, size, empty); nothing was stored."""


def folder() -> Path:
    """Where the bytes live: ``$DANVAN_EVIDENCE_DIR``, else ``data/evidence``."""
    return Path(os.environ.get("DANVAN_EVIDENCE_DIR") or DATA_DIR / "evidence")


def max_bytes() -> int:
    raw = os.environ.get("DANVAN_MAX_EVIDENCE_BYTES")
    return int(raw) if raw and raw.isdigit() else DEFAULT_MAX_BYTES


# --------------------------------------------------------------------------- sniffing
def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names:
                mt = z.read("mimetype").decode("ascii", "replace").strip()
                return mt if mt in ACCEPTED else None
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                if any(n.startswith("xl/") for n in names):
                    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def _refused_kind(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if data[:2] == b"MZ" or data[:4] == b"\x7fELF" or data[:4] in (b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return "tệp chạy được (chương trình)"
    if data[:2] == b"#!":
        return "tập lệnh (script)"
    if b"<svg" in head or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        return "ảnh SVG (có thể chứa mã chạy)"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")) or b"<script" in head:
        return "trang HTML"
    return "định dạng không nhận ra"


def sniff(data: bytes) -> str:
    """The MIME type of accepted content, read from its bytes; EvidenceRejected otherwise."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"PK\x03\x04"):
        kind = _zip_kind(data)
        if kind:
            return kind
        raise EvidenceRejected(f"Tệp nén không phải văn bản hay bảng tính được nhận; chỉ nhận {ACCEPTED_LABEL}.")
    raise EvidenceRejected(f"Không nhận tệp này: {_refused_kind(data)}. Chỉ nhận {ACCEPTED_LABEL} "
                           "(loại tệp được xác định theo nội dung, không theo tên).")


def check_file(data: bytes, limit: int | None = None) -> str:
    """Refuse an empty, oversized or wrong-typed file before anything is written; returns its MIME."""
    limit = max_bytes() if limit is None else limit
    if not data:
        raise EvidenceRejected("Tệp rỗng: không có gì để đính kèm.")
    if len(data) > limit:
        raise EvidenceRejected(f"Tệp {len(data) / 1048576:.1f} MB vượt giới hạn {limit / 1048576:.0f} MB; "
                               "hãy nén hoặc tách tệp.")
    return sniff(data)


def _path(sha: str, root: Path | None = None) -> Path:
    return (root or folder()) / sha[:2] / sha


def _store_bytes(data: bytes, sha: str, root: Path | None = None) -> None:
    path = _path(sha, root)
    if path.exists() and path.stat().st_size == len(data):
        return                                     # identical bytes are stored once
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- writes
@dataclass(frozen=True)
class Added:
    evidence_id: int
    sha256: str
    mime: str
    size: int
    deduplicated: bool


def _criterion_or_refuse(con, period: str, criterion: str) -> None:
    from .periods import framework_for_period

    fw = framework_for_period(con, period)
    if criterion not in fw.criteria:
        raise StoreError(f"Bộ tiêu chí của kỳ {period} không có tiêu chí '{criterion}'")


def add(con, data: bytes, *, file_name: str, unit: str, period: str, criterion: str, actor: Actor,
        root: Path | None = None, limit: int | None = None) -> Added:
    """Attach a file to a unit's criterion; refused (nothing written) for a wrong type, size, unit
    or state."""
    lifecycle.ensure_schema(con)
    name = Path(str(file_name).replace("\\", "/")).name.strip() or "minh-chung"
    state_ok = lifecycle.guard(period, "evidence", [unit])
    sniffed: list[str] = []

    def checks(con, actor) -> None:
        state_ok(con, actor)
        sniffed.append(check_file(data, limit))

    with store.write(con, actor, "dossier", action="evidence.add", target=f"{period}/{unit}/{criterion}",
                     unit=unit, guard=checks) as w:
        mime = sniffed[0]
        _criterion_or_refuse(con, period, criterion)
        if not con.execute("SELECT 1 FROM units WHERE unit_code = ?", [unit]).fetchone():
            raise StoreError(f"Không có đơn vị '{unit}'")
        sha = hashlib.sha256(data).hexdigest()
        dedup = _path(sha, root).exists()
        _store_bytes(data, sha, root)
        eid = int(con.execute("SELECT nextval('evidence_seq')").fetchone()[0])
        con.execute(f"INSERT INTO evidence_files ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [eid, unit, period, criterion, name, len(data), sha, mime, actor.username, store.now()])
        w.after = {"evidence_id": eid, "file_name": name, "sha256": sha, "size": len(data), "mime": mime}
    return Added(eid, sha, mime, len(data), dedup)


def add_many(con, data: bytes, targets: pd.DataFrame, *, period: str, file_name: str, actor: Actor,
             root: Path | None = None) -> int:
    """The same file attached to many (unit_code, criterion_code) pairs in one write (the demo, a
    province-wide document): stored once, one metadata row each."""
    lifecycle.ensure_schema(con)
    mime = check_file(data)
    sha = hashlib.sha256(data).hexdigest()
    units = sorted(set(targets["unit_code"].astype(str)))
    with store.write(con, actor, "dossier", action="evidence.add_many", target=period,
                     guard=lifecycle.guard(period, "evidence", units)) as w:
        _store_bytes(data, sha, root)
        rows = targets[["unit_code", "criterion_code"]].astype(str).reset_index(drop=True)
        first = int(con.execute("SELECT coalesce(max(evidence_id), 0) FROM evidence_files").fetchone()[0])
        rows.insert(0, "evidence_id", range(first + 1, first + 1 + len(rows)))
        with store.registered(con, "_ev_rows", rows):
            con.execute(f"INSERT INTO evidence_files ({', '.join(COLUMNS)}) SELECT evidence_id, unit_code, ?, "
                        "criterion_code, ?, ?, ?, ?, ?, ? FROM _ev_rows",
                        [period, file_name, len(data), sha, mime, actor.username, store.now()])
        # keep the sequence ahead of the ids used here
        for _ in range(len(rows)):
            con.execute("SELECT nextval('evidence_seq')").fetchone()
        w.after = {"files": len(rows), "sha256": sha}
    return len(rows)


def remove(con, evidence_id: int, *, actor: Actor) -> None:
    """Take a file off a dossier (only before the unit submitted); the bytes stay, the row is marked."""
    row = _row(con, evidence_id)
    with store.write(con, actor, "dossier", action="evidence.remove", target=f"evidence:{evidence_id}",
                     unit=row["unit_code"], guard=lifecycle.guard(row["period"], "evidence_remove",
                                                                  [row["unit_code"]])) as w:
        con.execute("UPDATE evidence_files SET removed_by = ?, removed_at = ? WHERE evidence_id = ?",
                    [actor.username, store.now(), evidence_id])
        w.before = {"file_name": row["file_name"], "sha256": row["sha256"]}


# --------------------------------------------------------------------------- reads
def _row(con, evidence_id: int) -> dict:
    lifecycle.ensure_schema(con)
    df = con.execute(f"SELECT {', '.join(COLUMNS)} FROM evidence_files WHERE evidence_id = ? AND removed_at IS NULL",
                     [int(evidence_id)]).df()
    if df.empty:
        raise StoreError(f"Không có minh chứng số {evidence_id}")
    return df.iloc[0].to_dict()


def list_files(con, period: str, unit: str | None = None, *, actor: Actor | None = None) -> pd.DataFrame:
    """The files attached in a period (one unit's, or all), oldest first, with the exact columns
    of ``danvan evidence list``. A unit account sees its own unit's only."""
    if not lifecycle._has_schema(con):
        return pd.DataFrame(columns=COLUMNS)
    if actor is not None and actor.role == "unit":
        if unit is not None and not actor.sees_unit(unit):
            raise StoreError(f"Tài khoản '{actor.username}' chỉ xem được hồ sơ của đơn vị mình")
        unit = actor.unit_code
    sql = f"SELECT {', '.join(COLUMNS)} FROM evidence_files WHERE period = ? AND removed_at IS NULL"
    params: list = [period]
    if unit is not None:
        sql += " AND unit_code = ?"
        params.append(unit)
    return con.execute(sql + " ORDER BY evidence_id", params).df()


def get(con, evidence_id: int, *, actor: Actor | None = None, root: Path | None = None) -> tuple[dict, bytes]:
    """The metadata and the exact bytes of one file (always served as an attachment)."""
    row = _row(con, evidence_id)
    if actor is not None and not actor.sees_unit(row["unit_code"]):
        raise StoreError(f"Tài khoản '{actor.username}' chỉ xem được minh chứng của đơn vị mình")
    path = _path(row["sha256"], root)
    try:
        data = path.read_bytes()
    except OSError:
        raise StoreError(f"Không đọc được tệp minh chứng số {evidence_id} ({path}); thư mục minh chứng "
                         "có thể đã bị di chuyển (DANVAN_EVIDENCE_DIR)") from None
    return row, data


def file_counts(con, period: str) -> pd.DataFrame:
    """unit_code, criterion_code, files: attached files that the appraisers did not reject."""
    if not lifecycle._has_schema(con):
        return pd.DataFrame(columns=["unit_code", "criterion_code", "files"])
    return con.execute(
        """SELECT f.unit_code, f.criterion_code, count(*) AS files FROM evidence_files f
           WHERE f.period = ? AND f.removed_at IS NULL AND NOT EXISTS (
               SELECT 1 FROM appraisal_reviews r WHERE r.period = f.period AND r.unit_code = f.unit_code
                  AND r.criterion_code = f.criterion_code AND r.decision = 'reject_evidence'
                  AND r.review_id = (SELECT max(r2.review_id) FROM appraisal_reviews r2
                                     WHERE r2.period = r.period AND r2.unit_code = r.unit_code
                                       AND r2.criterion_code = r.criterion_code))
           GROUP BY f.unit_code, f.criterion_code""", [period]).df()


FILE_MARK = "tệp minh chứng"


def with_files(con, period: str, scores: pd.DataFrame) -> pd.DataFrame:
    """The scores a period is ranked on, with ``evidence`` telling whether evidence_required is met.

    In a period inside the cycle it is met by at least one attached file the appraisers did not
    reject; a document reference typed in is kept as ``evidence_note``, a note. A period ``open``
    keeps today's rule: the reference text counts, and so does a file."""
    counts = file_counts(con, period)
    in_cycle = lifecycle.state(con, period).state != "open"
    if counts.empty and not in_cycle:
        return scores
    out = scores.copy()
    key = counts.assign(_f=counts["files"].astype(int)).set_index(["unit_code", "criterion_code"])["_f"]
    idx = pd.MultiIndex.from_arrays([out["unit_code"].astype(str), out["criterion_code"].astype(str)])
    files = pd.Series(key.reindex(idx).to_numpy(), index=out.index).fillna(0)
    marked = (files.astype(int).astype(str) + " " + FILE_MARK).where(files > 0)
    if in_cycle:
        out["evidence_note"] = out["evidence"]
        out["evidence"] = marked.astype(object).where(files > 0, None)
    else:
        out["evidence"] = out["evidence"].where(out["evidence"].notna(), marked)
    return out
