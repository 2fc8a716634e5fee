"""Publishing: freeze a period's ranking under its official profile.

:func:`publish` stores the whole results table (``results.period_results`` under the
period's official profile) as a JSON snapshot with a sha256 content hash in
``published_rankings``. Publishing again adds a new publication; nothing is
overwritten. Later weight edits or a new official profile never change a published
table: pages show :func:`published_or_live`, which returns the latest published table
(and says which profile and when) or, before any publication, the live table marked
as provisional.

The hash covers the period, the profile (id, label, weights) and the table (columns,
dtypes, rows), serialised as canonical JSON (sorted keys, no spaces, UTF-8), so the
same table under the same profile always has the same hash, and :func:`verify` can
tell whether a stored snapshot was altered.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from . import lifecycle, store
from .permissions import Actor
from .weights import WeightProfile, official_profile

SNAPSHOT_VERSION = 1


# --------------------------------------------------------------------------- (de)serialisation
def _cell(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (pd.Timestamp, datetime, date)):
        return v.isoformat()
    return v


def frame_to_snapshot(frame: pd.DataFrame) -> dict:
    cols = [str(c) for c in frame.columns]
    dtypes = {str(c): str(frame[c].dtype) for c in frame.columns}
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {"columns": cols, "dtypes": dtypes, "rows": rows}


def snapshot_to_frame(snap: dict) -> pd.DataFrame:
    cols = snap["columns"]
    data = list(zip(*snap["rows"])) if snap["rows"] else [[] for _ in cols]
    out = {}
    for c, vals in zip(cols, data):
        dt = snap["dtypes"].get(c, "object")
        vals = list(vals)
        if dt in ("Int64", "Int32", "boolean", "Float64", "string"):
            out[c] = pd.array(vals, dtype=dt)
        elif dt.startswith("float"):
            out[c] = np.array([np.nan if v is None else v for v in vals], dtype=dt)
        elif dt.startswith("datetime64"):
            out[c] = pd.to_datetime(pd.Series(vals, dtype=object))
        elif dt == "object":
            out[c] = pd.Series(vals, dtype=object)
        else:
            try:
                out[c] = pd.Series(vals).astype(dt)
            except (TypeError, ValueError):
                out[c] = pd.Series(vals, dtype=object)
    return pd.DataFrame({c: (out[c].reset_index(drop=True) if isinstance(out[c], pd.Series) else out[c])
                         for c in cols}, columns=cols)


def canonical(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_hash(snapshot: dict) -> str:
    return hashlib.sha256(canonical(snapshot).encode("utf-8")).hexdigest()


def _profile_doc(p: WeightProfile) -> dict:
    return {"profile_id": p.profile_id, "name": p.name, "version": p.version, "label": p.label,
            "framework": f"{p.framework_code}@{p.framework_version}", "groups": p.groups,
            "criteria": p.criteria}


# --------------------------------------------------------------------------- publish / read
@dataclass
class Publication:
    publication_id: int
    period: str
    profile_id: int
    profile_label: str
    published_by: str
    published_at: datetime
    content_hash: str
    note: str | None
    table: pd.DataFrame
    snapshot: dict

    @property
    def intact(self) -> bool:
        return content_hash(self.snapshot) == self.content_hash

    def info(self) -> dict:
        return {"status": "published", "publication_id": self.publication_id, "period": self.period,
                "profile_id": self.profile_id, "profile": self.profile_label, "published_by": self.published_by,
                "published_at": self.published_at, "content_hash": self.content_hash, "note": self.note,
                "intact": self.intact}


def publish(con, period: str, *, actor: Actor, note: str | None = None) -> Publication:
    """Freeze the period's ranking under its official profile (admin or chair only)."""
    with store.write(con, actor, "publish", action="ranking.publish", target=period,
                     guard=lifecycle.guard(period, "publish")) as w:
        return _publish(con, period, actor, note, w)


def _publish(con, period: str, actor: Actor, note: str | None, w: store.Write) -> Publication:
    from .results import period_results

    profile = official_profile(con, period)
    if profile.profile_id is None:
        raise store.StoreError("Bộ trọng số chính thức chưa được lưu; hãy lưu và chọn làm chính thức trước khi công bố")
    table = period_results(con, period, profile)
    if table.empty:
        raise store.StoreError(f"Kỳ {period} chưa có điểm nào để công bố")
    snap = {"snapshot_version": SNAPSHOT_VERSION, "period": period, "profile": _profile_doc(profile),
            "table": frame_to_snapshot(table)}
    digest = content_hash(snap)
    at = store.now()
    pid = con.execute("SELECT nextval('publication_seq')").fetchone()[0]
    con.execute("INSERT INTO published_rankings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [pid, period, profile.profile_id, actor.username, at, digest, canonical(snap), note])
    w.after = {"publication_id": int(pid), "profile": profile.label, "profile_id": profile.profile_id,
               "content_hash": digest, "units": len(table), "ranked": int(table["rank"].notna().sum()),
               "note": note}
    return Publication(int(pid), period, int(profile.profile_id), profile.label, actor.username, at, digest, note,
                       snapshot_to_frame(snap["table"]), snap)


def _load(row) -> Publication:
    pid, period, profile_id, by, at, digest, snapshot, note = row
    snap = json.loads(snapshot)
    return Publication(int(pid), period, int(profile_id), snap["profile"]["label"], by, at, digest, note,
                       snapshot_to_frame(snap["table"]), snap)


_COLS = "publication_id, period, profile_id, published_by, published_at, content_hash, snapshot, note"


def published(con, period: str) -> Publication | None:
    """The latest publication of the period (with its frozen table), or None."""
    row = con.execute(f"SELECT {_COLS} FROM published_rankings WHERE period = ? "
                      "ORDER BY published_at DESC, publication_id DESC LIMIT 1", [period]).fetchone()
    return _load(row) if row else None


def publication(con, publication_id: int) -> Publication:
    row = con.execute(f"SELECT {_COLS} FROM published_rankings WHERE publication_id = ?",
                      [publication_id]).fetchone()
    if row is None:
        raise store.StoreError(f"Không có lần công bố số {publication_id}")
    return _load(row)


def publications(con, period: str | None = None) -> pd.DataFrame:
    """History of publications (newest first), without the snapshots."""
    sql = ("SELECT r.publication_id, r.period, r.profile_id, p.name || ' (v' || p.version || ')' AS profile, "
           "r.published_by, r.published_at, r.content_hash, r.note FROM published_rankings r "
           "LEFT JOIN weight_profiles p USING (profile_id)")
    params: list = []
    if period is not None:
        sql += " WHERE r.period = ?"
        params.append(period)
    return con.execute(sql + " ORDER BY r.published_at DESC, r.publication_id DESC", params).df()


def verify(pub: Publication) -> bool:
    """True when the stored snapshot still has the hash it was published with."""
    return pub.intact


def live_differs(con, pub: Publication) -> bool:
    """Would publishing now give a different table (scores or official profile changed)?"""
    from .results import period_results

    profile = official_profile(con, pub.period)
    snap = {"snapshot_version": SNAPSHOT_VERSION, "period": pub.period, "profile": _profile_doc(profile),
            "table": frame_to_snapshot(period_results(con, pub.period, profile))}
    return content_hash(snap) != pub.content_hash


def _when(ts) -> str:
    return pd.Timestamp(ts).strftime("%d/%m/%Y %H:%M") + " (UTC)"


def published_or_live(con, period: str, *, check_live: bool = False,
                      live_table: bool = True) -> tuple[pd.DataFrame | None, dict]:
    """(table, info) for the ranking page: the published table if there is one, else the live one
    (None with ``live_table=False``: a caller with its own cached live table skips the ranking).

    info: status ('published' | 'live'), profile, published_at, published_by, content_hash,
    note, intact, official_changed (the official profile is no longer the published one),
    live_differs (only with check_live), and ``message``: one Vietnamese sentence to show.
    """
    from .results import period_results

    pub = published(con, period)
    current = official_profile(con, period)
    if pub is None:
        table = period_results(con, period, current) if live_table else None
        return table, {"status": "live", "profile": current.label, "profile_id": current.profile_id,
                       "published_at": None, "published_by": None, "content_hash": None, "note": None,
                       "intact": None, "official_changed": False, "live_differs": None,
                       "message": (f"Kết quả tạm tính, chưa công bố: xếp hạng theo bộ trọng số chính thức "
                                   f"hiện tại '{current.label}' và dữ liệu mới nhất; có thể còn thay đổi.")}
    info = pub.info()
    info["official_changed"] = current.profile_id != pub.profile_id
    info["live_differs"] = live_differs(con, pub) if check_live else None
    msg = (f"Kết quả đã công bố lúc {_when(pub.published_at)} theo bộ trọng số '{pub.profile_label}', "
           f"người công bố: {pub.published_by}. Mã kiểm tra (SHA-256): {pub.content_hash[:12]}…")
    if info["official_changed"]:
        msg += (f" Bộ trọng số chính thức đã đổi sang '{current.label}' sau khi công bố; bảng dưới đây vẫn là "
                "bảng đã công bố, chỉ thay đổi khi hội đồng công bố lại.")
    elif info["live_differs"]:
        msg += " Dữ liệu đã thay đổi sau khi công bố; bảng dưới đây vẫn là bảng đã công bố."
    if not pub.intact:
        msg += " CẢNH BÁO: nội dung lưu trữ không khớp mã kiểm tra."
    info["message"] = msg
    return pub.table, info
