"""Reading and importing a model list (CSV or XLSX) into the registry, and its template.

The file is read by ``tabular`` (the same reader, and so the same guarantees, as score
files); this module holds the model list's header rule and its per-row validation.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from . import crosswalk, score_headers, templates, values
from . import periods as period_store
from . import units as unit_store
from .permissions import require
from .registry import ENTRY_COLUMNS, ensure_schema, write_models_batch
from .rubric import (
    KIND_WORDS,
    LEVEL_WORDS,
    RECOGNISED,
    STATUS_LABELS,
    STATUS_WORDS,
    STATUSES,
    FieldList,
    Rubric,
    default_fields,
    default_rubric,
    rubric_json,
    rubric_total,
)
from .tabular import HEADER_SCAN_ROWS, check_bytes, read_grid
from .text import fold, nfc
from .uploads import MAX_BYTES, Importer, ImportResult, ParsedUpload, Problem, Problems, content_hash, read_safely


# --------------------------------------------------------------------------- upload: template
def template_frame(unit_codes: Mapping[str, str] | Iterable[str], period: str, *, rubric: Rubric | None = None,
                   example: bool = True) -> pd.DataFrame:
    """An upload template with Vietnamese headers; one example row per unit when ``example``."""
    rubric = rubric or default_rubric()
    names = dict(unit_codes) if isinstance(unit_codes, Mapping) else {u: "" for u in unit_codes}
    headers = TEMPLATE_HEADERS + [it.header for it in rubric.items]
    rows = []
    if example:
        for u in sorted(names):
            rows.append([None, u, names[u], period, None, None, "Tập thể", "Đã đăng ký", None, None, None]
                        + [None] * len(rubric.items))
    return pd.DataFrame(rows, columns=headers)


TEMPLATE_HEADERS = ["Mã mô hình", "Mã đơn vị", "Tên đơn vị", "Kỳ", "Tên mô hình", "Lĩnh vực", "Loại",
                    "Trạng thái", "Cấp công nhận", "Minh chứng", "Ghi chú"]
TEMPLATE_HELP = [
    ("Mã mô hình", "để trống khi đăng ký mới (hệ thống tự cấp mã theo đơn vị, kỳ và tên); ghi mã để cập nhật"),
    ("Mã đơn vị", "mã 5 chữ số của xã, phường, đặc khu (bắt buộc)"),
    ("Kỳ", "ví dụ 2025 (bắt buộc, trừ khi chọn kỳ khi nhập)"),
    ("Tên mô hình", "bắt buộc"),
    ("Lĩnh vực", "Kinh tế; Văn hóa - xã hội; Quốc phòng - an ninh; Xây dựng Đảng; Chính quyền; Đoàn thể"),
    ("Loại", "Tập thể (mô hình) hoặc Cá nhân (điển hình); trống = Tập thể"),
    ("Trạng thái", "Đã đăng ký; Đang thực hiện; Được công nhận; Được nhân rộng; Dừng; trống = Đã đăng ký"),
    ("Cấp công nhận", "Cấp xã; Cấp tỉnh; Trung ương — bắt buộc khi được công nhận hoặc nhân rộng"),
    ("Điểm chất lượng", "các cột thang điểm: để trống cả 6 cột nếu chưa chấm, hoặc điền đủ 6 cột"),
]


def write_template(df: pd.DataFrame, path_or_buffer, fmt: str = "csv") -> None:
    """Write the template as CSV (UTF-8 with BOM) or XLSX (codes as text), formulas neutralised."""
    templates.write_template(df, path_or_buffer, fmt)


# --------------------------------------------------------------------------- upload: reading
_BASE = score_headers.HEADER_SYNONYMS
_MODEL_HEADERS: dict[str, list[str]] = {
    "model_id": ["ma mo hinh", "model id", "model", "ma mh", "so hieu mo hinh", "id mo hinh", "ma so mo hinh"],
    "unit_code": [s for s in _BASE["unit_code"] if s not in ("ma", "code", "ma so")],
    "unit_name": [s for s in _BASE["unit_name"] if s != "ten"],
    "period": _BASE["period"] + ["ky dang ky", "nam dang ky"],
    "name": ["ten mo hinh", "ten mo hinh dien hinh", "ten dien hinh", "mo hinh", "mo hinh dien hinh", "name",
             "model name", "ten", "noi dung mo hinh"],
    "field": ["linh vuc", "field", "linh vuc mo hinh"],
    "kind": ["loai", "loai mo hinh", "kind", "tap the ca nhan", "hinh thuc", "loai hinh"],
    "status": ["trang thai", "status", "tinh trang", "ket qua danh gia"],
    "level": ["cap cong nhan", "level", "cap", "cap cong nhan mo hinh", "noi cong nhan"],
    "evidence": _BASE["evidence"],
    "note": _BASE["note"],
    "rubric_total": ["tong diem", "tong diem chat luong", "diem chat luong", "rubric total", "tong"],
}
MODEL_FIELD_LABELS = {
    "model_id": "mã mô hình", "unit_code": "mã đơn vị", "period": "kỳ", "name": "tên mô hình",
    "field": "lĩnh vực", "kind": "loại", "status": "trạng thái", "level": "cấp công nhận",
}
_REQUIRED = ("unit_code", "name", "field")
_NAME_MAX = 300


def _header_lookup(rubric: Rubric) -> dict[str, str]:
    out = {syn: fld for fld, syns in _MODEL_HEADERS.items() for syn in syns}
    for it in rubric.items:
        for word in (it.code, f"rubric {it.code}", fold(it.name), fold(it.header), f"diem {fold(it.name)}",
                     fold(it.name_en) if it.name_en else None):
            if word:
                out[word] = f"rubric:{it.code}"
    return out


def _header_rule(lookup: dict[str, str]):
    """A model-list header names the unit-code column and one of name, field, model id, status."""
    def score(cells: list[str]) -> float | None:
        found = {lookup.get(fold(c)) for c in cells if c and str(c).strip()}
        found.discard(None)
        if "unit_code" in found and len(found & {"name", "field", "model_id", "status"}) >= 1:
            return float(len(found))
        return None
    return score


def _no_header(rows: list[list[str]]) -> str:
    first = next(("\t".join(c for c in r if c) for r in rows if any(c and c.strip() for c in r)), "")
    shown = first.strip()[:120]
    return ("không tìm thấy dòng tiêu đề của danh sách mô hình (cần cột 'Mã đơn vị' và ít nhất một trong "
            f"'Tên mô hình', 'Lĩnh vực', 'Mã mô hình', 'Trạng thái') trong {HEADER_SCAN_ROWS} dòng đầu"
            + (f"; dòng đầu tiên có: {shown}" if shown else "")
            + ". Hãy dùng mẫu danh sách mô hình: " + ", ".join(TEMPLATE_HEADERS[:8]) + ", …")


def auto_model_id(unit_code: str, period: str, name: str) -> str:
    """A stable id for a model registered without one: the same unit, period and name give the same id."""
    h = hashlib.sha1(f"{unit_code}|{period}|{fold(name)}".encode()).hexdigest()[:6].upper()
    return f"MH-{unit_code}-{period}-{h}"


_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")


def read_models_upload(data: bytes, filename: str, *, unit_codes: Mapping[str, str],
                       owners: Mapping[str, str] | None = None, period: str | None = None,
                       sheet: str | None = None, max_bytes: int = MAX_BYTES,
                       rubric: Rubric | None = None, fields: FieldList | None = None,
                       known_periods: Iterable[str] | None = None,
                       legacy: Mapping[str, tuple[str, list[tuple[str, str]]]] | None = None) -> ParsedUpload:
    """Read and validate a model list without touching a database; never raises for bad input.

    ``legacy`` (``crosswalk.successors``): units before 1 July 2025, accepted only for periods that
    ended before then (a later period is refused naming the new units the old code became).

    ``owners``: model_id → unit_code of models already in the registry (a model cannot change unit).
    The valid rows (columns of ``model_entries``) are in ``rows``; every problem names its row and column.
    """
    data, digest = content_hash(data)
    info: dict[str, Any] = {}
    return read_safely(
        lambda: _read_models(data, digest, unit_codes, owners or {}, period, sheet, max_bytes,
                             rubric or default_rubric(), fields or default_fields(),
                             None if known_periods is None else set(known_periods), info, legacy or {}),
        filename, lambda problems: _models_rejected(digest, problems, info))


def _empty_entries() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="float64" if c == "rubric_total" else object)
                         for c in ENTRY_COLUMNS})


def _models_rejected(content_hash: str, problems: list[Problem], info: dict) -> ParsedUpload:
    keep = {k: v for k, v in info.items() if k in ("encoding", "delimiter", "sheet", "header_row")}
    return ParsedUpload(_empty_entries(), problems, [], "models", content_hash, problem_count=len(problems), **keep)


def _model_roles(header: list[str], lookup: dict[str, str], rubric: Rubric, period_arg: str | None,
                 problems: Problems) -> tuple[dict[str, int], list[str], dict[str, int | None]]:
    """Which column is which field (roles), the ignored columns, the rubric item columns;
    header problems go to ``problems``."""
    roles: dict[str, int] = {}
    ignored: list[str] = []
    for j, cell in enumerate(header):
        name = (cell or "").strip()
        if not name:
            continue
        role = lookup.get(fold(name))
        if role is None:
            ignored.append(name)
            continue
        if role in roles:
            problems.add(Problem(None, name, None, f"cột '{name}' và cột '{header[roles[role]].strip()}' cùng là "
                                 f"{MODEL_FIELD_LABELS.get(role, role)}; hãy giữ lại một cột"))
            continue
        roles[role] = j
    missing = [MODEL_FIELD_LABELS[f] for f in _REQUIRED if f not in roles]
    if "period" not in roles and period_arg is None:
        missing.append("kỳ (hoặc chọn kỳ khi nhập: --period 2025)")
    if missing:
        problems.add(Problem(None, None, None, "thiếu cột bắt buộc: " + ", ".join(missing)))
    rubric_cols = {it.code: roles.get(f"rubric:{it.code}") for it in rubric.items}
    if any(v is not None for v in rubric_cols.values()):
        absent = [it.header for it in rubric.items if rubric_cols[it.code] is None]
        if absent:
            problems.add(Problem(None, None, None, "thiếu cột điểm chất lượng: " + "; ".join(f"'{a}'" for a in absent)
                                 + " (điền đủ các mục của thang điểm)"))
    return roles, ignored, rubric_cols


class _ModelRows:
    """Reads and checks one row of a model file at a time (``read``); each problem is added to
    ``problems`` with the row number and the file's own column header."""

    def __init__(self, *, roles, columns, header, problems, unit_codes, new_codes, legacy, owners, period_arg,
                 known_periods, rubric, rubric_cols, fields, decimal_comma):
        self.roles, self.columns, self.header, self.problems = roles, columns, header, problems
        self.unit_codes, self.new_codes, self.legacy, self.owners = unit_codes, new_codes, legacy, owners
        self.period_arg, self.known_periods = period_arg, known_periods
        self.rubric, self.rubric_cols, self.decimal_comma = rubric, rubric_cols, decimal_comma
        self.fields, self._fields_seen = fields, {}
        self.field_names = "; ".join(f.name for f in fields.fields)
        self.i = self.r = 0
        self.bad = False

    def cell(self, role: str, i: int | None = None) -> str | None:
        j = self.roles.get(role)
        if j is None:
            return None
        v = self.columns[j].iloc[self.i if i is None else i]
        if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
            return None
        s = str(v).strip()
        return s or None

    def hdr(self, role: str) -> str:
        return self.header[self.roles[role]].strip() if role in self.roles else MODEL_FIELD_LABELS.get(role, role)

    def err(self, role: str | None, value, reason: str) -> None:
        self.bad = True
        self.problems.add(Problem(self.r, self.hdr(role) if role else None, value, reason))

    def read(self, i: int, r: int) -> dict | None:
        """Row ``i`` (file row ``r``) as an entry, or None when it has a problem."""
        self.i, self.r, self.bad = i, r, False
        unit, per = self._unit_and_period()
        name = self.cell("name")
        if name is None:
            self.err("name", None, "thiếu tên mô hình")
        elif len(name) > _NAME_MAX:
            self.err("name", name, f"tên mô hình dài quá {_NAME_MAX} ký tự")
        fld, kind, status, level = self._labels()
        scores, total = self._rubric()
        mid = self._model_id(unit, per, name)
        if self.bad:
            return None
        return {"period": per, "model_id": mid, "unit_code": unit, "name": nfc(name), "field": fld, "kind": kind,
                "status": status, "level": level, "evidence": self.cell("evidence"), "note": self.cell("note"),
                "rubric": rubric_json(scores) if total is not None else None, "rubric_total": total}

    def _unit_and_period(self) -> tuple[str | None, str | None]:
        err, unit_codes = self.err, self.unit_codes
        raw_unit = self.cell("unit_code")
        unit = None
        if raw_unit is None:
            err("unit_code", None, "thiếu mã đơn vị")
        else:
            unit = values.unit_code_of(raw_unit)[0]
            if unit is None or unit not in unit_codes:
                hint = values.closest_code(unit or raw_unit, list(unit_codes)) if unit_codes else None
                err("unit_code", raw_unit, f"không có đơn vị mã '{unit or raw_unit}' trong danh sách đơn vị"
                    + (f"; có phải '{hint}' ({unit_codes[hint]})?" if hint else ""))
                unit = None
        raw_period = self.cell("period")
        per = values.period_of(raw_period) if raw_period is not None else (
            values.period_of(self.period_arg) if self.period_arg else None)
        if raw_period is None and per is None:
            err("period", None, "không có kỳ: điền cột Kỳ hoặc chọn kỳ khi nhập")
        elif per is None:
            err("period", raw_period, values.PERIOD_BAD)
        elif self.known_periods is not None and per not in self.known_periods:
            err("period", raw_period or per, f"chưa có kỳ đánh giá '{per}' trong cơ sở dữ liệu; các kỳ hiện có: "
                + (", ".join(sorted(self.known_periods)) or "(chưa có)"))
        if unit is not None and per is not None and unit in self.legacy and unit not in self.new_codes \
                and not crosswalk.is_pre_merger(per):
            err("unit_code", raw_unit, f"mã '{unit}' là {crosswalk.became(*self.legacy[unit])}; kỳ {per} kết thúc "
                "sau 01/07/2025 nên chỉ nhận mã đơn vị mới")
            unit = None
        return unit, per

    def _field(self, raw: str) -> tuple[str | None, str | None]:
        if raw not in self._fields_seen:   # a registry repeats a handful of field words
            self._fields_seen[raw] = self.fields.resolve(raw)
        return self._fields_seen[raw]

    def _labels(self) -> tuple:
        """(field, kind, status, level) from their words."""
        err = self.err
        raw_field = self.cell("field")
        fld, hint = self._field(raw_field) if raw_field is not None else (None, None)
        if raw_field is None:
            err("field", None, f"thiếu lĩnh vực; chỉ nhận: {self.field_names}")
        elif hint is not None:
            err("field", raw_field, f"lĩnh vực không hợp lệ; có phải '{self.fields.labels[hint]}'?")
        elif fld is None:
            err("field", raw_field, f"lĩnh vực không hợp lệ; chỉ nhận: {self.field_names}")
        raw_kind = self.cell("kind")
        kind = "collective" if raw_kind is None else KIND_WORDS.get(fold(raw_kind))
        if kind is None:
            err("kind", raw_kind, "loại không hợp lệ; chỉ nhận: Tập thể (mô hình) hoặc Cá nhân (điển hình)")
        raw_status = self.cell("status")
        status = "registered" if raw_status is None else STATUS_WORDS.get(fold(raw_status))
        if status is None:
            err("status", raw_status, "trạng thái không hợp lệ; chỉ nhận: "
                + "; ".join(STATUS_LABELS[s] for s in STATUSES))
        raw_level = self.cell("level")
        level = None if raw_level is None else LEVEL_WORDS.get(fold(raw_level))
        if raw_level is not None and level is None:
            err("level", raw_level, "cấp công nhận không hợp lệ; chỉ nhận: Cấp xã; Cấp tỉnh; Trung ương")
        elif status in RECOGNISED and level is None and raw_level is None:
            err("level", None, f"mô hình '{STATUS_LABELS[status]}' phải ghi cấp công nhận (Cấp xã, Cấp tỉnh, "
                "Trung ương)")
        elif status in ("registered", "in_progress", "dropped") and level is not None:
            err("level", raw_level, f"mô hình '{STATUS_LABELS[status]}' chưa được công nhận nên không có cấp "
                "công nhận; hãy để trống hoặc sửa trạng thái")
        return fld, kind, status, level

    def _rubric(self) -> tuple[dict[str, float], float | None]:
        """The rubric items (all or none) and their total, checked against a stated total."""
        err, rubric = self.err, self.rubric
        scores: dict[str, float] = {}
        present = {code: self.cell(f"rubric:{code}") for code, j in self.rubric_cols.items() if j is not None}
        filled = {k: v for k, v in present.items() if v is not None}
        if filled and len(filled) < len(rubric.items):
            empty = [rubric.item(k).header for k in present if present[k] is None]
            err(f"rubric:{next(k for k in present if present[k] is None)}", None,
                "điểm chất lượng phải điền đủ các mục hoặc để trống tất cả; còn thiếu: " + "; ".join(empty))
        for code, raw in filled.items():
            it = rubric.item(code)
            v, word = values.number_of(raw, self.decimal_comma)
            if v is None or word:
                err(f"rubric:{code}", raw, f"điểm mục '{it.name}' phải là số")
            elif v < 0 or v > it.max_points:
                err(f"rubric:{code}", raw, f"điểm mục '{it.name}' phải từ 0 đến {it.max_points:g}")
            else:
                scores[code] = v
        total = rubric_total(scores, rubric) if len(scores) == len(rubric.items) else None
        raw_total = self.cell("rubric_total")
        if raw_total is not None:
            tv, word = values.number_of(raw_total, self.decimal_comma)
            if tv is None or word:
                err("rubric_total", raw_total, "tổng điểm phải là số")
            elif not filled:
                err("rubric_total", raw_total, "có tổng điểm nhưng không có điểm từng mục; hãy điền các cột "
                    "của thang điểm (" + "; ".join(it.header for it in rubric.items) + ")")
            elif total is not None and abs(tv - total) > 0.01:
                err("rubric_total", raw_total, f"tổng điểm không khớp tổng các mục ({total:g})")
        return scores, total

    def _model_id(self, unit, per, name) -> str | None:
        raw_id = self.cell("model_id")
        if raw_id is not None:
            mid = raw_id
            if not _ID_RE.match(mid):
                self.err("model_id", raw_id, "mã mô hình chỉ gồm chữ không dấu, số và - _ . / (tối đa 64 ký tự)")
        else:
            mid = auto_model_id(unit, per, name) if unit and per and name else None
        if mid and unit and self.owners.get(mid) not in (None, unit):
            self.err("model_id", mid, f"mã mô hình '{mid}' đã thuộc đơn vị {self.owners[mid]}; mỗi mô hình "
                     "thuộc một đơn vị")
        return mid


def _read_models(data, content_hash, unit_codes, owners, period_arg, sheet, max_bytes, rubric, fields,
                 known_periods, info, legacy=None) -> ParsedUpload:
    legacy = legacy or {}
    new_codes = unit_codes
    if legacy:
        unit_codes = {**{c: v[0] for c, v in legacy.items()}, **unit_codes}
    refused = check_bytes(data, max_bytes)
    if refused:
        return _models_rejected(content_hash, [Problem(None, None, None, refused)], info)
    if period_arg is not None and values.period_of(period_arg) is None:
        return _models_rejected(content_hash, [Problem(None, None, period_arg, values.PERIOD_BAD)], info)
    lookup = _header_lookup(rubric)
    grid = read_grid(data, header_score=_header_rule(lookup), no_header=_no_header, sheet=sheet, info=info)
    if isinstance(grid, list):
        return _models_rejected(content_hash, grid, info)
    header, columns, rownum, parse_problems, decimal_comma = (grid.header, grid.columns, grid.rownum,
                                                              grid.problems, grid.decimal_comma)
    problems = Problems()
    for p in parse_problems:
        problems.add(p)

    roles, ignored, rubric_cols = _model_roles(header, lookup, rubric, period_arg, problems)
    if problems.any:
        return _finish(content_hash, _empty_entries(), problems, ignored, info)

    rows_in = _ModelRows(roles=roles, columns=columns, header=header, problems=problems, unit_codes=unit_codes,
                         new_codes=new_codes, legacy=legacy, owners=owners, period_arg=period_arg,
                         known_periods=known_periods, rubric=rubric, rubric_cols=rubric_cols, fields=fields,
                         decimal_comma=decimal_comma)
    out_rows: list[dict] = []
    seen: dict[tuple[str, str], tuple[int, dict]] = {}
    data_rows = 0
    for i in range(len(rownum)):
        if all(columns[j].iloc[i] is None or pd.isna(columns[j].iloc[i]) for j in range(len(columns))):
            continue
        data_rows += 1
        r = int(rownum[i])
        row = rows_in.read(i, r)
        if row is None:
            continue
        key = (row["period"], row["model_id"])
        if key in seen:
            first_r, first = seen[key]
            if first == row:
                continue
            problems.add(Problem(r, rows_in.hdr("model_id") if "model_id" in roles else None, row["model_id"],
                                 f"trùng mô hình với dòng {first_r} (cùng mã/đơn vị, kỳ {row['period']}"
                                 + ("" if rows_in.cell("model_id", i) else ", tên")
                                 + ") nhưng khác nội dung; hãy giữ lại một dòng"))
            continue
        seen[key] = (r, row)
        out_rows.append(row)
    if data_rows == 0 and not problems.any:
        problems.add(Problem(None, None, None, "tệp chỉ có dòng tiêu đề, không có mô hình nào"))
    rows = pd.DataFrame(out_rows, columns=ENTRY_COLUMNS) if out_rows else _empty_entries()
    return _finish(content_hash, rows, problems, ignored, info)


def _finish(content_hash, rows, problems, ignored, info) -> ParsedUpload:
    keep = {k: v for k, v in info.items() if k in ("encoding", "delimiter", "sheet", "header_row")}
    return ParsedUpload(rows, problems.listed(), ignored, "models", content_hash, problem_count=problems.total,
                        **keep)


def read_for_import(con, data: bytes, filename: str, *, period: str | None = None, stage: str | None = None,
                    sheet: str | None = None, max_bytes: int = MAX_BYTES) -> ParsedUpload:
    """``read_models_upload`` against a database: its units, periods and the models' owners.
    ``stage`` is accepted for the shared signature and ignored (the registry has no stages)."""
    ensure_schema(con)
    owners = dict(con.execute("SELECT DISTINCT model_id, unit_code FROM current_models").fetchall())
    return read_models_upload(data, filename, unit_codes=unit_store.unit_names(con), owners=owners, period=period,
                              sheet=sheet, max_bytes=max_bytes, known_periods=period_store.periods(con),
                              legacy=crosswalk.successors(con))


MODELS = Importer(kind="models", label="danh sách mô hình", noun="mô hình", read=read_for_import,
                  write=write_models_batch)


def import_models_file(con, data: bytes, filename: str, *, actor, period: str | None = None,
                       stage: str | None = None, sheet: str | None = None, dry_run: bool = False,
                       max_bytes: int = MAX_BYTES, progress: Callable[[float, str], None] | None = None) -> ImportResult:
    """Validate a whole model list, then write it as one batch, or write nothing (``MODELS.run``);
    same contract as ``ingest.import_file``. The permission is checked before the file is read."""
    require(actor, "import")
    return MODELS.run(con, data, filename, actor=actor, period=period, stage=stage, sheet=sheet, dry_run=dry_run,
                      max_bytes=max_bytes, progress=progress)
