"""Reading score uploads (CSV, XLSX; long or wide) into validated long rows, and importing them.

Staff export these files from Excel on Vietnamese Windows machines, so the reader is
forgiving about form (encodings, delimiters, decimal commas, title rows, header
spelling, stripped leading zeros) and strict about content: every bad cell becomes a
``Problem`` that names the row as the user sees it in Excel, and a file with any
problem is rejected whole. ``read_upload`` is pure; ``import_file`` adds the database.

Speed matters (a national file has a million rows), so parsing is done by pyarrow's C
reader and validation works on the *distinct* values of each column (a few thousand
unit codes, a few dozen criteria) mapped back by integer codes, never row by row.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from . import batches as batch_store
from . import crosswalk, store
from . import periods as period_store
from . import units as unit_store
from .columns import Column, clean_text, repeated, take_text
from .criteria import Framework, Kind
from .derived import refuse_derived
from .score_headers import ValueSpec, assign_columns, header_score
from .tabular import HEADER_SCAN_ROWS, Grid, Limits, check_bytes, read_grid
from .text import fold
from .uploads import (
    MAX_BYTES,
    MAX_LISTED,
    Importer,
    ImportResult,
    ParsedUpload,
    Problem,
    Problems,
    content_hash,
    read_safely,
)
from .values import PERIOD_BAD, closest_code, closest_name, number_of, period_of, unit_code_of

# (period, criterion) pairs up to which the value rules are looked up in a dense table (a
# bincount of that size, 32 MB of int64); beyond it only garbage input gets, so the pairs
# actually used are compressed with np.unique instead
_DENSE_PAIRS_MAX = 4_000_000
LONG_COLUMNS = ["unit_code", "period", "criterion_code", "score", "stage", "evidence", "note"]
ROW_COLUMNS = ["unit_code", "period", "criterion_code", "stage", "value", "evidence", "note"]


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_code": pd.Series([], dtype="str"),
            "period": pd.Series([], dtype="str"),
            "criterion_code": pd.Series([], dtype="str"),
            "stage": pd.Series([], dtype="str"),
            "value": pd.Series([], dtype="float64"),
            "evidence": pd.Series([], dtype="str"),
            "note": pd.Series([], dtype="str"),
        }
    )


class ScoreRow(BaseModel):
    """The contract of one normalised row; the vectorised reader produces exactly these.

    Used as documentation, in tests, and by the per-row baseline in the benchmark.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    unit_code: str = Field(pattern=r"^\d{5}$|^[A-Za-z0-9_.-]{1,32}$")
    period: str = Field(pattern=period_store.PERIOD_RE.pattern)
    criterion_code: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")
    stage: str = Field(pattern=r"^(self|appraised)$")
    value: float = Field(ge=0, allow_inf_nan=False)
    evidence: str | None = None
    note: str | None = None


# =========================================================================== text helpers


_STAGE_WORDS = {
    "self": "self", "tu cham": "self", "tu danh gia": "self", "don vi tu cham": "self", "tc": "self",
    "appraised": "appraised", "appraisal": "appraised", "tham dinh": "appraised", "td": "appraised",
    "cap tren cham": "appraised", "cap tren": "appraised", "danh gia": "appraised",
}


# =========================================================================== public API
def read_upload(
    data: bytes,
    filename: str,
    *,
    framework: Framework,
    unit_codes: Mapping[str, str],
    period: str | None = None,
    stage: str | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
    legacy: Mapping[str, tuple[str, list[tuple[str, str]]]] | None = None,
) -> ParsedUpload:
    """Read and validate an upload without touching any database; never raises for bad input.

    ``legacy`` (``crosswalk.successors``): the units before 1 July 2025, accepted for periods that
    ended before then and refused for later ones with the new units they became."""
    return _read_safely(data, filename, lambda p: framework, unit_codes, period, stage, sheet, max_bytes,
                        legacy=legacy)


def _read_safely(data, filename, framework_for, unit_codes, period, stage, sheet, max_bytes,
                 limits: Limits | None = None, legacy=None) -> ParsedUpload:
    data, digest = content_hash(data)
    reader = _Reader(data, filename or "", framework_for, unit_codes or {}, period, stage, sheet, max_bytes, digest,
                     limits, legacy)
    return read_safely(reader.run, filename, lambda problems: _rejected(digest, problems))


def _rejected(content_hash: str, problems: list[Problem], layout: str = "long", **kw) -> ParsedUpload:
    return ParsedUpload(_empty_rows(), problems, [], layout, content_hash, problem_count=len(problems), **kw)


class PeriodFrameworks:
    """period → its framework (or why it has none), looked up once each; ``all_codes`` are the
    criterion codes of every period's framework, which may head a wide column before any
    period in the file is read."""

    def __init__(self, con):
        self.con = con
        self.cache: dict[str, Framework | str] = {}
        codes: dict[str, None] = {}
        for p in period_store.periods(con):
            fw = self(p)
            if isinstance(fw, Framework):
                codes.update(dict.fromkeys(fw.criteria))
        self.all_codes = list(codes)

    def __call__(self, period: str) -> Framework | str:
        if period not in self.cache:
            try:
                self.cache[period] = period_store.framework_for_period(self.con, period)
            except store.StoreError as exc:
                self.cache[period] = str(exc)
        return self.cache[period]


def read_for_import(con, data: bytes, filename: str, *, period: str | None = None, stage: str | None = None,
                    sheet: str | None = None, max_bytes: int = MAX_BYTES) -> ParsedUpload:
    """``read_upload`` against a database: its units and each period's framework."""
    return _read_safely(data, filename, PeriodFrameworks(con), unit_store.unit_names(con), period, stage, sheet,
                        max_bytes, legacy=crosswalk.successors(con))


SCORES = Importer(kind="scores", label="bảng điểm", noun="dòng", read=read_for_import, write=batch_store.write_batch,
                  uses_stage=True)


def import_file(con, data: bytes, filename: str, *, actor, period: str | None = None, stage: str | None = None,
                sheet: str | None = None, dry_run: bool = False, max_bytes: int = MAX_BYTES,
                progress: Callable[[float, str], None] | None = None) -> ImportResult:
    """Validate the whole file, then write it as one batch (one transaction), or write nothing
    (``SCORES.run``). Raises ``UploadRejected`` with every problem when the file has any;
    database errors come out as ``store.StoreError`` with a one-line message."""
    return SCORES.run(con, data, filename, actor=actor, period=period, stage=stage, sheet=sheet, dry_run=dry_run,
                      max_bytes=max_bytes, progress=progress)


# =========================================================================== the reader

class _Validation:
    """What the checks of one upload share: the grid, its column roles, and the problem list."""

    def __init__(self, t: Grid, roles: dict, problems: Problems):
        self.t, self.roles, self.problems = t, roles, problems

    def col(self, role):
        return self.t.columns[self.roles[role]] if role in self.roles else None

    def hdr(self, role):
        return self.t.header[self.roles[role]].strip() if role in self.roles else None

    def report(self, mask, column, reasons, values=None):
        """List the rows in ``mask``; ``reasons`` is a str or a function of the raw value."""
        problems, t = self.problems, self.t
        idx = np.flatnonzero(mask)
        problems.count(len(idx))
        idx = idx[: problems.room()]
        raws = values.raw(idx) if values is not None else [None] * len(idx)
        for i, raw in zip(idx, raws):
            r = reasons if isinstance(reasons, str) else reasons(i, raw)
            problems.add(Problem(int(t.rownum[i]), column, None if raw is None else str(raw), r), counted=True)

class _Reader:
    def __init__(self, data, filename, framework_for, unit_codes, period, stage, sheet, max_bytes, content_hash,
                 limits: Limits | None = None, legacy=None):
        self.legacy = legacy or {}
        self.data = data
        self.filename = filename
        self.framework_for = framework_for
        self.unit_codes = unit_codes
        self.period_arg = period
        self.stage_arg = stage
        self.sheet = sheet
        self.max_bytes = max_bytes
        self.hash = content_hash
        self.limits = limits
        self.info: dict[str, Any] = {}

    # ----------------------------------------------------------------------- top
    def run(self) -> ParsedUpload:
        refused = check_bytes(self.data, self.max_bytes)
        if refused:
            return self._fail(refused)
        arg_problems = self._check_arguments()
        if arg_problems:
            return _rejected(self.hash, arg_problems)
        grid = read_grid(self.data, header_score=header_score, no_header=self._no_header, sheet=self.sheet,
                         limits=self.limits, info=self.info)
        if isinstance(grid, list):
            return _rejected(self.hash, grid, **self.info)
        return self._validate(grid)

    def _fail(self, reason: str) -> ParsedUpload:
        return _rejected(self.hash, [Problem(None, None, None, reason)], **self.info)

    def _check_arguments(self) -> list[Problem]:
        out = []
        if self.stage_arg is not None and _stage_of(self.stage_arg) is None:
            out.append(Problem(None, None, self.stage_arg,
                               "giai đoạn không hợp lệ; chỉ nhận 'self' (tự chấm) hoặc 'appraised' (thẩm định)"))
        if self.period_arg is not None and period_of(self.period_arg) is None:
            out.append(Problem(None, None, self.period_arg, PERIOD_BAD))
        return out

    @staticmethod
    def _no_header(head: list[list[str]]) -> str:
        seen = next((r for r in head if any(c.strip() for c in r)), [])
        shown = ", ".join(f"'{c.strip()}'" for c in seen[:8] if c.strip())
        return ("không tìm thấy dòng tiêu đề có cột mã đơn vị (unit_code / 'Mã đơn vị' / 'Mã xã') và cột "
                       "mã tiêu chí, điểm hoặc kỳ đánh giá trong "
                       f"{HEADER_SCAN_ROWS} dòng đầu" + (f"; dòng đầu tiên có: {shown}" if shown else ""))

    # ----------------------------------------------------------------------- validation
    def _validate(self, t: Grid) -> ParsedUpload:
        problems = Problems()
        for p in t.problems:
            problems.add(p)
        roles, ignored, layout, header_problems = assign_columns(t.header, self.framework_for, self.period_arg)
        for p in header_problems:
            problems.add(p)
        self.info["layout"] = layout
        specs: list[ValueSpec] = roles.get("values") or []
        if not specs:
            return self._finish(_empty_rows(), problems, ignored, layout, 0, 0)
        n = len(t.rownum)
        if n == 0:
            problems.add(Problem(None, None, None, "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"))
            return self._finish(_empty_rows(), problems, ignored, layout, 0, 0)
        v = _Validation(t, roles, problems)

        # --- value columns first: a row without any value is an unfilled template row, skipped
        vcols = [Column(t.columns[s.index], lambda x: number_of(x, t.decimal_comma)) for s in specs]
        has_value = np.zeros(n, dtype=bool)
        for vc in vcols:
            has_value |= ~vc.missing
        unit = Column(v.col("unit_code"), unit_code_of)
        blank = int(sum(int((vc.missing & ~unit.missing).sum()) for vc in vcols))
        if not has_value.any():
            anything = any(c.notna().any() for c in t.columns)
            problems.add(Problem(None, None, None, "tệp không có điểm nào (các ô điểm đều để trống)" if anything
                                 else "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"))
            return self._finish(_empty_rows(), problems, ignored, layout, blank, 0)
        active = has_value

        per_default = period_of(self.period_arg) if self.period_arg else None
        if "period" in roles:
            per = Column(v.col("period"), lambda x: (period_of(x),), default=per_default)
        else:
            per = Column.constant(n, per_default)
        stage_default = _stage_of(self.stage_arg) or "appraised"
        if "stage" in roles:
            stg = Column(v.col("stage"), lambda x: (_stage_of(x),), default=stage_default)
        else:
            stg = Column.constant(n, stage_default)
        known = self._all_criterion_codes(per)
        crit = Column(v.col("criterion_code"), lambda x: _criterion_of(x, known)) if layout == "long" else None
        row_bad, period_bad = self._row_checks(v, active, unit, per, stg, crit, known)

        # --- each value column: number, range, kind, who may score it (the range needs a
        # known period and criterion; a non-number is reported whatever else is wrong)
        rule_bad = period_bad | per.missing | stg.bad
        if crit is not None:
            rule_bad = rule_bad | crit.bad | crit.missing
        rows, key, rownum = self._value_rows(v, specs, vcols, active, row_bad, rule_bad, unit, per, stg, crit, known)
        if layout == "wide" and len(rows) > 1:
            order = np.argsort(rownum, kind="stable")
            rows, key, rownum = rows.iloc[order].reset_index(drop=True), key[order], rownum[order]
        # criteria the framework derives from the model registry cannot be typed in
        for problem in refuse_derived(rows.assign(_row=rownum), self.framework_for,
                                      v.hdr("criterion_code") if layout == "long" else None):
            problems.add(problem)
        rows, dupes = self._duplicates(rows, key, rownum, problems)
        return self._finish(rows, problems, ignored, layout, blank, dupes)

    def _row_checks(self, v: _Validation, active, unit, per, stg, crit, known) -> tuple[np.ndarray, np.ndarray]:
        """Report the rows whose unit, period, stage or criterion is wrong: (rows refused, rows whose
        period is unusable)."""
        t, hdr, report, problems = v.t, v.hdr, v.report, v.problems
        unit_reason = self._unit_messages(unit, v.col("unit_name"))
        row_bad = np.zeros(len(t.rownum), dtype=bool)
        m = active & unit.bad
        report(m, hdr("unit_code"), lambda i, raw: unit_reason(raw), unit)
        row_bad |= m
        m = active & unit.missing
        report(m, hdr("unit_code"), "thiếu mã đơn vị")
        row_bad |= m
        m = active & per.bad
        report(m, hdr("period"), PERIOD_BAD, per)
        row_bad |= m
        period_bad = m.copy()
        for p_idx, p in per.distinct_indices():
            fw = self.framework_for(p)
            if not isinstance(fw, Framework):
                m = active & (per.idx == p_idx)
                if m.any():
                    first = int(t.rownum[np.flatnonzero(m)[0]])
                    problems.add(Problem(first, hdr("period"), p,
                                         f"{str(fw).rstrip('.')} ({int(m.sum())} dòng có kỳ này)"))
                    row_bad |= m
                    period_bad |= m
        m = active & per.missing
        report(m, hdr("period"), "không có kỳ đánh giá: điền cột kỳ hoặc chọn kỳ khi nhập (--period)")
        row_bad |= m
        if self.legacy:  # an old code only in periods that ended before 1 July 2025
            only_old = np.array([x in self.legacy and x not in self.unit_codes for x in unit.norm], dtype=bool)
            later = np.array([isinstance(x, str) and not crosswalk.is_pre_merger(x) for x in per.norm], dtype=bool)
            m = active & ~row_bad & only_old[unit.idx] & later[per.idx]

            def old_code(i, raw):
                code, p = unit.norm[unit.idx[i]], per.norm[per.idx[i]]
                name, news = self.legacy[code]
                return (f"mã '{code}' là {crosswalk.became(name, news)}; kỳ {p} kết thúc sau 01/07/2025 "
                        "nên chỉ nhận mã đơn vị mới")
            report(m, hdr("unit_code"), old_code, unit)
            row_bad |= m
        m = active & stg.bad
        report(m, hdr("stage"), "giai đoạn không hợp lệ; chỉ nhận 'tự chấm' (self) hoặc 'thẩm định' (appraised)",
               stg)
        row_bad |= m
        if crit is not None:
            m = active & crit.bad & ~period_bad
            report(m, hdr("criterion_code"), lambda i, raw: _unknown_criterion(raw, known), crit)
            row_bad |= m
            m = active & crit.missing
            report(m, hdr("criterion_code"), "thiếu mã tiêu chí")
            row_bad |= m
        return row_bad, period_bad

    def _value_rows(self, v: _Validation, specs, vcols, active, row_bad, rule_bad, unit, per, stg, crit, known):
        """(the accepted score rows, their identity keys, their file row numbers), one value column after another."""
        t, n = v.t, len(v.t.rownum)
        gid = {code: k for k, code in enumerate(sorted(known))}
        frames, keys, rows_at = [], [], []
        evidence = clean_text(v.col("evidence"))
        note = clean_text(v.col("note"))
        for spec, vc in zip(specs, vcols):
            c = crit if spec.criterion is None else Column.constant(n, spec.criterion)
            s = stg if spec.stage is None else Column.constant(n, spec.stage)
            ok = self._check_values(vc, c, s, per, active & ~vc.missing, rule_bad,
                                    t.header[spec.index].strip(), v.report) & ~row_bad
            keep = np.flatnonzero(ok)
            frames.append(pd.DataFrame({
                "unit_code": unit.take_str(keep),
                "period": per.take_str(keep),
                "criterion_code": c.take_str(keep),
                "stage": s.take_str(keep),
                "value": vc.as_float()[keep],
                "evidence": take_text(evidence, keep, n),
                "note": take_text(note, keep, n),
            }))
            c_gid = np.array([gid.get(x, len(gid)) for x in c.norm], dtype=np.int64)[c.idx[keep]]
            s_bit = np.array([x == "self" for x in s.norm], dtype=np.int64)[s.idx[keep]]
            key = ((unit.idx[keep].astype(np.int64) * (per.k + 1) + per.idx[keep]) * (len(gid) + 1) + c_gid) * 2
            keys.append(key + s_bit)
            rows_at.append(t.rownum[keep])
        rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return rows, np.concatenate(keys), np.concatenate(rows_at)

    def _finish(self, rows, problems, ignored, layout, blank, dupes) -> ParsedUpload:
        info = {k: v for k, v in self.info.items() if k != "layout"}
        return ParsedUpload(rows, problems.listed(), ignored, layout, self.hash, problem_count=problems.total,
                            blank_cells=blank, duplicate_rows=dupes, **info)

    def _all_criterion_codes(self, per: Column) -> dict[str, dict[str, Any]]:
        """criterion code → {period: Criterion} for the periods in the file (one framework each)."""
        out: dict[str, dict[str, Any]] = {}
        for _, p in per.distinct_indices():
            fw = self.framework_for(p)
            if isinstance(fw, Framework):
                for code, c in fw.criteria.items():
                    out.setdefault(code, {})[p] = c
        return out

    def _check_values(self, vc, crit, stg, per, active, rule_bad, column, report) -> np.ndarray:
        """Number, range, kind and stage checks; returns the rows that pass.

        The rules depend on (period, criterion) only, so they are computed once per distinct
        pair and broadcast to the rows with integer look-ups.
        """
        nonnum = active & vc.bad
        report(nonnum, column, "điểm phải là số (dùng dấu chấm hoặc dấu phẩy thập phân, không có chữ)", vc)
        active = active & ~vc.bad & ~rule_bad
        if not active.any():
            return active
        width = crit.k + 1
        pair = per.idx.astype(np.int64) * width + crit.idx
        size = (per.k + 1) * width
        if size <= _DENSE_PAIRS_MAX:
            used = np.flatnonzero(np.bincount(pair[active], minlength=size))
            lookup = None
        else:  # absurdly many distinct periods × criteria (garbage input): compress first
            used, inverse = np.unique(pair[active], return_inverse=True)
            lookup = used
        m = len(used) if lookup is not None else size
        vmax = np.full(m, np.inf)
        pass_fail = np.zeros(m, dtype=bool)
        allow_na = np.zeros(m, dtype=bool)
        appraiser = np.zeros(m, dtype=bool)
        absent = np.zeros(m, dtype=bool)
        reasons: dict[int, tuple[str, str, str]] = {}
        for j, u in enumerate(used):
            slot = j if lookup is not None else int(u)
            p, code = per.norm[int(u) // width], crit.norm[int(u) % width]
            fw = self.framework_for(p) if p is not None else None
            c = fw.criteria.get(code) if isinstance(fw, Framework) else None
            if c is None:
                absent[slot] = True
                label = fw.key if isinstance(fw, Framework) else "?"
                reasons[slot] = (f"tiêu chí '{code}' không có trong bộ tiêu chí của kỳ {p} ({label})", "", "", "")
                continue
            pass_fail[slot] = c.kind is Kind.pass_fail
            allow_na[slot] = c.allow_na
            appraiser[slot] = c.appraiser_only
            if c.value_max is not None:
                vmax[slot] = c.value_max
            if c.kind is Kind.pass_fail:
                rng = f"tiêu chí {code} là đạt / không đạt: chỉ nhận 1 (đạt) hoặc 0 (không đạt)"
            elif c.kind is Kind.penalty:
                rng = f"điểm trừ của tiêu chí {code} ghi số dương, từ 0 đến {c.value_max:g}"
            elif c.value_max is None:
                rng = f"tiêu chí {code} ({c.value_hint()}) phải là số không âm"
            else:
                rng = f"điểm của tiêu chí {code} phải từ 0 đến {c.value_max:g}"
            reasons[slot] = ("", rng, f"tiêu chí {code} chỉ do cấp trên chấm (thẩm định), không có điểm tự chấm",
                             f"tiêu chí {code} không nhận 'không phát sinh' (NA, kps): phải chấm điểm")
        if lookup is not None:
            row_slot = np.zeros(len(pair), dtype=np.int64)
            row_slot[active] = inverse
        else:
            row_slot = pair
        v = vc.as_float()
        words = vc.extra
        r_absent = active & absent[row_slot]
        r_pf = pass_fail[row_slot]
        na = active & ~r_absent & np.isnan(v)          # "không phát sinh" (values.NA_WORDS)
        na_refused = na & ~allow_na[row_slot]
        bad_range = active & ~r_absent & ~na & np.where(r_pf, (v != 0.0) & (v != 1.0),
                                                        words | (v < 0) | (v > vmax[row_slot]))
        is_self = np.array([x == "self" for x in stg.norm], dtype=bool)[stg.idx]
        selfish = active & ~r_absent & ~bad_range & appraiser[row_slot] & is_self
        report(r_absent, column, lambda i, raw: reasons[int(row_slot[i])][0], crit)
        report(bad_range, column, lambda i, raw: reasons[int(row_slot[i])][1], vc)
        report(selfish, column, lambda i, raw: reasons[int(row_slot[i])][2], vc)
        report(na_refused, column, lambda i, raw: reasons[int(row_slot[i])][3], vc)
        return active & ~r_absent & ~bad_range & ~selfish & ~na_refused

    def _duplicates(self, rows, key, rownum, problems: Problems) -> tuple[pd.DataFrame, int]:
        """The same key twice: identical rows are kept once, different values are a problem."""
        if len(rows) < 2:
            return rows, 0
        dup = repeated(key)
        if dup is None:
            return rows, 0
        d = rows[dup].assign(key_=key[dup], row_=rownum[dup])
        same = d.duplicated(["key_", "value", "evidence", "note"], keep="first").to_numpy()
        d_unique = d[~same]
        conflict = d_unique.duplicated(["key_"], keep="first").to_numpy()
        if conflict.any():
            g = d_unique.groupby("key_", sort=False)
            first_row = g["row_"].transform("first").to_numpy()[conflict]
            first_val = g["value"].transform("first").to_numpy()[conflict]
            bad = d_unique[conflict]
            problems.count(len(bad))
            room = problems.room()
            for r, fr, fv in zip(bad.iloc[:room].itertuples(index=False), first_row[:room], first_val[:room]):
                problems.add(Problem(int(r.row_), None, f"{r.value:g}",
                                     f"trùng với dòng {int(fr)} (cùng đơn vị {r.unit_code}, kỳ {r.period}, "
                                     f"tiêu chí {r.criterion_code}, giai đoạn {_STAGE_VI.get(r.stage, r.stage)}) "
                                     f"nhưng khác giá trị ({fv:g}); hãy giữ lại một dòng"), counted=True)
        drop = np.flatnonzero(dup)[same]
        keep = np.ones(len(rows), dtype=bool)
        keep[drop] = False
        return rows[keep].reset_index(drop=True), int(same.sum())

    def _unit_messages(self, unit: Column, names: pd.Series | None) -> Callable[[str], str]:
        """Marks unknown unit codes bad; returns the reason text for one, with the closest
        known unit (by the name in the file when there is a name column, else by code)."""
        known = self.unit_codes
        if self.legacy:  # old codes and names are known too (refused later for periods after the merger)
            known = {**{c: v[0] for c, v in self.legacy.items()}, **known}
        unit.restrict_to(known)
        by_name: dict[str, str] = {}
        if names is not None and unit.bad.any():
            for code, name in known.items():
                by_name.setdefault(fold(name), code)
        name_of_raw: dict[str, str] = {}
        if names is not None:
            bad_rows = np.flatnonzero(unit.bad)[:MAX_LISTED]
            for raw, nm in zip(unit.raw(bad_rows), names.to_numpy()[bad_rows]):
                if isinstance(nm, str) and nm.strip():
                    name_of_raw.setdefault(raw, nm)
        cache: dict[str, str] = {}
        codes_list = list(known)

        def message(raw: str) -> str:
            if raw in cache:
                return cache[raw]
            norm = unit_code_of(raw)[0] or str(raw).strip()
            hint = None
            if len(cache) < 200:  # closest matches cost time; the first 200 distinct codes get one
                nm = name_of_raw.get(raw)
                if nm:
                    close = closest_name(fold(nm), by_name)
                    hint = by_name[close] if close else None
                if hint is None and codes_list:
                    hint = closest_code(norm, codes_list)
            if not known:
                text = f"không có đơn vị mã '{norm}' (danh sách đơn vị đang trống)"
            elif hint:
                text = f"không có đơn vị mã '{norm}'; có phải '{hint}' ({known[hint]})?"
            else:
                text = f"không có đơn vị mã '{norm}' trong danh sách {len(known)} đơn vị"
            cache[raw] = text
            return text

        return message


# =========================================================================== value normalisers
_STAGE_VI = {"self": "tự chấm", "appraised": "thẩm định"}


def _stage_of(raw: Any) -> str | None:
    if raw is None:
        return None
    return _STAGE_WORDS.get(fold(raw))


def _criterion_of(raw: Any, known: Mapping[str, Any]) -> tuple:
    s = str(raw).strip()
    if s in known:
        return (s,)
    up = s.upper()
    if up in known:
        return (up,)
    for code in known:
        if code.casefold() == s.casefold():
            return (code,)
    return (None,)


def _unknown_criterion(raw: str | None, known: Mapping[str, Any]) -> str:
    codes = sorted(known)
    close = difflib.get_close_matches(str(raw).strip().upper(), codes, n=1, cutoff=0.5)
    hint = f"; có phải '{close[0]}'?" if close else ""
    if not codes:
        return "không có tiêu chí này (chưa xác định được bộ tiêu chí của kỳ)"
    return f"không có tiêu chí này trong bộ tiêu chí (các mã: {', '.join(codes)}){hint}"


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())
