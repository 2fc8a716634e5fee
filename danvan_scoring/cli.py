"""The ``danvan`` command: set up the database, fill demo data, import, list, rank.

Every command takes ``--db PATH`` (default ``$DANVAN_DB``, else ``data/danvan.duckdb``).
Problems are one Vietnamese line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import getpass
import io
import os
import sys
from pathlib import Path

import pandas as pd

from . import batches, periods, store, units
from . import blocks as block_store
from .cli_args import EXIT_ERROR, EXIT_OK, EXIT_REJECTED, EXIT_USAGE, build_parser  # noqa: F401
from .paths import DEFAULT_DB, ROOT, default_db_path


# --------------------------------------------------------------------------- helpers
def _db(args) -> Path | str:
    return args.db or default_db_path()


def _open(args, read_only: bool = False):
    return store.connect(_db(args), read_only=read_only)


def _emit(frame: pd.DataFrame, fmt: str, out=None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        out.write(frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=1) + "\n")
    else:
        from .export import neutralise_formulas

        buf = io.StringIO()
        neutralise_formulas(frame).to_csv(buf, index=False, lineterminator="\n")
        out.write(buf.getvalue())


def _actor(args):
    from .permissions import Actor

    name = getattr(args, "user", None) or os.environ.get("USER") or getpass.getuser() or "cli"
    return Actor(f"cli:{name}", "admin")


# --------------------------------------------------------------------------- commands
def cmd_init(args) -> int:
    from .bootstrap import init_database

    info = init_database(_db(args), args.period)
    print(f"Cơ sở dữ liệu {store.describe(_db(args))}: bộ tiêu chí {info['framework']}, kỳ {', '.join(info['periods'])}, "
          f"thêm {info['units_added']} đơn vị.")
    return EXIT_OK


def cmd_demo(args) -> int:
    from .bootstrap import init_connection
    from .demo import demo_framework, fill_demo

    con = store.connect(_db(args), create=True)
    try:
        init_connection(con, framework=demo_framework())
        info = fill_demo(con, seed=args.seed, force=args.force, cycle=args.cycle)
    finally:
        con.close()
    accounts = ("Tài khoản mẫu: lanhdao, hoidong, canbo, quantri — mật khẩu 'demo'." if info["accounts"] else
                "Cơ sở dữ liệu đã có tài khoản thật: không thêm tài khoản mẫu.")
    print(f"Đã điền DỮ LIỆU MINH HỌA (tổng hợp ngẫu nhiên, seed {args.seed}): {info['units']} đơn vị, "
          f"{len(info['periods'])} kỳ ({', '.join(info['periods'])}), {info['new']} giá trị mới. {accounts}")
    return EXIT_OK


def cmd_criteria(args) -> int:
    con = _open(args, read_only=True)
    fw = periods.framework_for_period(con, args.period)
    rows = [{"criterion_code": c.code, "group_code": g.code, "name": c.name, "max_points": c.max_points,
             "kind": c.kind.value, "name_en": c.name_en, "target": c.target, "per_unit": c.per_unit,
             "required": c.is_required, "evidence_required": c.evidence_required,
             "appraiser_only": c.appraiser_only, "source": c.source, "allow_na": c.allow_na}
            for g in fw.groups for c in g.criteria]
    _emit(pd.DataFrame(rows), args.format)
    return EXIT_OK


def cmd_units(args) -> int:
    con = _open(args, read_only=True)
    u = units.units(con, args.province)
    if args.province and u.empty:
        raise store.StoreError(f"Không có tỉnh mã '{args.province}' (mã tỉnh gồm 2 chữ số, ví dụ 42)")
    period = args.period or (periods.periods(con) or [None])[-1]
    if period:
        b = block_store.unit_blocks(con, period)[["unit_code", "block_code"]].rename(columns={"block_code": "block"})
        u = u.merge(b, on="unit_code", how="left")
    else:
        u["block"] = None
    _emit(u[["unit_code", "name", "unit_type", "province_code", "block", "province_name", "lat", "lon"]],
          args.format)
    return EXIT_OK


def cmd_template(args) -> int:
    from .templates import template_frame, write_template

    con = _open(args, read_only=True)
    fw = periods.framework_for_period(con, args.period)
    codes = units.units(con, args.province)["unit_code"].tolist()
    frame = template_frame(fw, codes, args.period, args.layout)
    write_template(frame, args.output, args.format)
    print(f"Đã tạo mẫu {args.layout} ({args.format}) cho kỳ {args.period}: {args.output}")
    return EXIT_OK


def cmd_import(args) -> int:
    from .uploads import UploadRejected

    if args.kind == "models":
        from .model_upload import import_models_file as import_file
    else:
        from .ingest import import_file

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise store.StoreError(f"Không đọc được tệp '{args.file}': {exc.strerror or exc}") from None
    con = _open(args)
    try:
        res = import_file(con, data, args.file.name, actor=_actor(args), period=args.period,
                          stage=args.stage, sheet=args.sheet, dry_run=args.dry_run)
    except UploadRejected as rej:
        for prob in rej.problems:
            print(f"{args.file.name}: {prob.line()}", file=sys.stderr)
        print(f"Tệp bị từ chối: {rej.count} lỗi; không ghi dữ liệu nào.", file=sys.stderr)
        return EXIT_REJECTED
    finally:
        con.close()
    print(res.summary() if hasattr(res, "summary") else str(res))
    return EXIT_OK


def cmd_scores(args) -> int:
    con = _open(args, read_only=True)
    from .results import period_scores

    s = period_scores(con, args.period)
    if args.stage:
        s = s[s["stage"] == args.stage]
    s = s.sort_values(["unit_code", "criterion_code", "stage"], kind="stable")
    s = s[["unit_code", "period", "criterion_code", "stage", "value", "evidence", "note", "batch_id"]]
    s = s.astype({"value": object})
    s.loc[s["value"].isna(), "value"] = "NA"  # "không phát sinh", read back as NaN by pandas' read_csv
    _emit(s.rename(columns={"value": "score"}), args.format)
    return EXIT_OK


def rank_table(con, period: str, profile_name: str | None = None, *, map_to_new: bool = False) -> pd.DataFrame:
    """The rank command's table; ``map_to_new``: a pre-merger period's figures mapped onto the new
    units (``results.mapped_results``) with ``estimated`` and ``predecessors`` added."""
    from .results import mapped_results, period_results
    from .weights import resolve_profile

    profile = resolve_profile(con, period, profile_name)
    r = mapped_results(con, period, profile) if map_to_new else period_results(con, period, profile)
    groups = [c for c in r.columns if c.startswith("group_")]
    out = r[["rank", "unit_code", "unit_name", "total", "tier", "block", "block_rank"] + groups].copy()
    out = out.rename(columns={g: g.removeprefix("group_") for g in groups})
    for c in ["total"] + [g.removeprefix("group_") for g in groups]:
        out[c] = out[c].round(2)
    out["eligible"] = r["eligible"]
    out["total_self"] = r["total_self"].round(2)
    out["gap"] = r["gap"]
    out["delta_total"] = r.get("delta_total")
    out["delta_rank"] = r.get("delta_rank")
    out["profile"] = profile.label
    out["province_rank"] = r["province_rank"]
    out["tier_self"] = r["tier_self"]
    out["award_eligible"] = r["award_eligible"]
    out["award_reason"] = r["award_reason"]
    out["block_leader"] = r["block_leader"]
    out["status"] = r["status"]
    if not map_to_new:  # why a unit sits below its band (a tier condition, the top tier's cap), and its N/A criteria
        out["tier_reason"] = r["tier_reason"]
        out["not_applicable"] = r["not_applicable"]
    if map_to_new:
        out["estimated"] = r["estimated"]
        out["predecessors"] = r["predecessors"]
    elif "prev_estimated" in r.columns and r["prev_estimated"].any():
        out["prev_estimated"] = r["prev_estimated"]  # delta_* compare with an estimate from the old units
    return out


def cmd_rank(args) -> int:
    con = _open(args, read_only=True)
    _emit(rank_table(con, args.period, args.profile, map_to_new=args.map_to_new), args.format)
    return EXIT_OK


def cmd_crosswalk(args) -> int:
    from . import crosswalk

    con = _open(args, read_only=True)
    table = crosswalk.crosswalk(con, unit=args.unit, legacy=args.legacy)
    if table.empty and (args.unit or args.legacy):
        what = f"đơn vị mới '{args.unit}'" if args.unit else f"đơn vị cũ '{args.legacy}'"
        raise store.StoreError(f"Bảng chuyển đổi không có {what}" + (f" với đơn vị cũ '{args.legacy}'"
                                                                      if args.unit and args.legacy else ""))
    _emit(table, args.format)
    return EXIT_OK


def cmd_batches(args) -> int:
    con = _open(args, read_only=True)
    _emit(batches.batches(con), args.format)
    return EXIT_OK


def cmd_undo(args) -> int:
    con = _open(args)
    info = batches.undo_batch(con, args.batch, actor=_actor(args))
    print(f"Đã hủy lần nhập số {info['batch_id']} ({info['entries']} giá trị); các giá trị trước đó được khôi phục.")
    return EXIT_OK


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise store.StoreError("Không có bàn phím để nhập mật khẩu; dùng --password-stdin")
    password = getpass.getpass("Mật khẩu: ")
    if getpass.getpass("Nhập lại mật khẩu: ") != password:
        raise store.StoreError("Hai lần nhập mật khẩu không khớp")
    return password


def cmd_user(args) -> int:
    from . import auth

    if args.user_command == "list":
        _emit(auth.users(_open(args, read_only=True)), "csv")
        return EXIT_OK
    if args.user_command not in ("add", "passwd"):
        raise store.StoreError("Dùng: danvan user add TÊN --role VAI_TRÒ hoặc danvan user passwd TÊN")
    password = _read_password(args)
    auth.check_password(password)     # refused before the database is even opened
    if args.user_command == "passwd":
        auth.reset_password(_open(args), args.name, password, actor=_actor(args))
        print(f"Đã đặt lại mật khẩu cho tài khoản '{args.name}'; các phiên đăng nhập của tài khoản đã kết thúc.")
        return EXIT_OK
    con = _open(args)
    auth.add_user(con, args.name, args.role, password, actor=_actor(args), is_chair=args.chair,
                  unit_code=args.unit.strip() if args.unit else None)
    print(f"Đã tạo tài khoản '{args.name}' ({auth.ROLES[args.role]}).")
    return EXIT_OK


def cmd_unit(args) -> int:
    if args.unit_command != "add":
        raise store.StoreError("Dùng: danvan unit add MÃ --name TÊN --province MÃ_TỈNH")
    con = _open(args)
    units.add_unit(con, args.code.strip(), args.name.strip(), args.type, args.province, actor=_actor(args))
    print(f"Đã thêm đơn vị {args.code} — {args.name} ({units.UNIT_TYPES[args.type]}, tỉnh {args.province}).")
    return EXIT_OK


def cmd_period(args) -> int:
    from .bootstrap import ensure_period
    from .criteria import default_framework, load_framework

    if args.period_command == "list":
        con = _open(args, read_only=True)
        _emit(con.execute("SELECT period, label, framework_code, framework_version FROM periods "
                          "ORDER BY sort_key").df(), "csv")
        return EXIT_OK
    if args.period_command in ("status", "advance", "reopen"):
        return _period_cycle(args)
    if args.period_command != "add":
        raise store.StoreError("Dùng: danvan period add|list|status|advance|reopen KỲ")
    fw = load_framework(args.framework) if args.framework else default_framework()
    con = _open(args)
    periods.save_framework(con, fw)
    from .weights import ensure_default_profile

    ensure_default_profile(con, fw)
    ensure_period(con, args.period, fw)
    print(f"Đã thêm kỳ {args.period} (bộ tiêu chí {fw.key}).")
    return EXIT_OK


def _period_cycle(args) -> int:
    from . import dossier, lifecycle

    if args.period_command == "status":
        con = _open(args, read_only=True)
        st = lifecycle.state(con, args.period)
        print(st.describe())
        prog = dossier.progress(con, args.period)
        counts = prog["status"].value_counts()
        print("Hồ sơ: " + ", ".join(f"{label.lower()} {int(counts.get(k, 0))}"
                                     for k, label in dossier.PROGRESS_STATUS.items())
              + f"; quá hạn {int(prog['late'].sum())}; kiến nghị chưa giải quyết "
              f"{lifecycle.open_objections(con, args.period)}.")
        for r in lifecycle.reopenings(con, args.period).itertuples():
            print(f"Mở lại về '{lifecycle.STATE_LABELS[r.to_state]}' lúc {r.changed_at:%d/%m/%Y %H:%M} "
                  f"({r.changed_by}): {r.reason}")
        return EXIT_OK
    con = _open(args)
    if args.period_command == "advance":
        st = lifecycle.advance(con, args.period, actor=_actor(args), deadline=args.deadline)
    else:
        st = lifecycle.reopen(con, args.period, args.to, actor=_actor(args), reason=args.reason,
                              deadline=args.deadline)
    print(f"Đã chuyển. {st.describe()}.")
    return EXIT_OK


def cmd_submit(args) -> int:
    from . import lifecycle

    at = lifecycle.submit(_open(args), args.period, args.unit.strip(), actor=_actor(args))
    print(f"Đơn vị {args.unit} đã nộp hồ sơ tự đánh giá kỳ {args.period} lúc {at:%d/%m/%Y %H:%M}; "
          "hồ sơ đã được khóa.")
    return EXIT_OK


def cmd_evidence(args) -> int:
    from . import evidence

    if args.evidence_command == "list":
        con = _open(args, read_only=True)
        _emit(evidence.list_files(con, args.period, args.unit), args.format)
        return EXIT_OK
    if args.evidence_command == "get":
        row, data = evidence.get(_open(args, read_only=True), args.id)
        args.output.write_bytes(data)
        print(f"Đã lưu minh chứng số {args.id} ({row['file_name']}, {len(data)} byte) vào {args.output}")
        return EXIT_OK
    if args.evidence_command != "add":
        raise store.StoreError("Dùng: danvan evidence add|list|get")
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise store.StoreError(f"Không đọc được tệp '{args.file}': {exc.strerror}") from None
    got = evidence.add(_open(args), data, file_name=args.file.name, unit=args.unit.strip(), period=args.period,
                       criterion=args.criterion.strip(), actor=_actor(args))
    same = " (nội dung đã có, lưu một lần)" if got.deduplicated else ""
    print(f"Đã đính kèm minh chứng số {got.evidence_id}: {args.file.name}, {got.mime}, {got.size} byte{same}.")
    return EXIT_OK


def cmd_appraise(args) -> int:
    from .appraisal import DECISIONS, appraise

    out = appraise(_open(args), args.period, args.unit.strip(), args.criterion.strip(), actor=_actor(args),
                   accept=args.accept, value=args.value, reason=args.reason,
                   reject_evidence=args.reject_evidence)
    print(f"{DECISIONS[out['decision']]}: đơn vị {args.unit}, tiêu chí {args.criterion}, điểm thẩm định "
          f"{out['value']:g}" + (f" (lý do: {out['reason']})" if out["reason"] else "") + ".")
    return EXIT_OK


def cmd_objection(args) -> int:
    from . import objections

    if args.objection_command == "list":
        _emit(objections.list_objections(_open(args, read_only=True), args.period), args.format)
        return EXIT_OK
    if args.objection_command == "add":
        oid = objections.add(_open(args), args.period, args.unit.strip(), args.text, actor=_actor(args),
                             criterion=args.criterion.strip() if args.criterion else None)
        print(f"Đã ghi kiến nghị số {oid} của đơn vị {args.unit} kỳ {args.period}.")
        return EXIT_OK
    if args.objection_command != "resolve":
        raise store.StoreError("Dùng: danvan objection add|list|resolve")
    out = objections.resolve(_open(args), args.id, accept=args.accept, text=args.text, actor=_actor(args))
    print(f"Kiến nghị số {args.id}: {objections.STATUS_LABELS[out['status']].lower()}.")
    return EXIT_OK


def cmd_blocks(args) -> int:
    from .blocks import read_assignments

    if args.blocks_command == "list":
        con = _open(args, read_only=True)
        periods.framework_for_period(con, args.period)
        _emit(block_store.blocks(con, args.period), args.format)
        return EXIT_OK
    if args.blocks_command != "import":
        raise store.StoreError("Dùng: danvan blocks list|import --period KỲ")
    con = _open(args)
    periods.framework_for_period(con, args.period)
    try:
        blocks, assign = read_assignments(args.file, units.units(con))
    except ValueError as exc:
        raise store.StoreError(str(exc)) from None
    block_store.set_blocks(con, args.period, blocks, assign, actor=_actor(args))
    print(f"Kỳ {args.period}: {len(blocks)} khối thi đua, {len(assign)} đơn vị.")
    return EXIT_OK


def cmd_uncertainty(args) -> int:
    if args.draws < 1:
        raise store.StoreError("--draws phải là số nguyên dương")
    from .sensitivity import uncertainty_table
    from .weights import resolve_profile

    con = _open(args, read_only=True)
    profile = resolve_profile(con, args.period, args.profile)
    table = uncertainty_table(con, args.period, profile, draws=args.draws, spread=args.spread,
                              seed=args.seed, top_k=args.top)
    _emit(table, args.format)
    return EXIT_OK


def cmd_models(args) -> int:
    from .registry import list_models

    con = _open(args, read_only=True)
    periods.framework_for_period(con, args.period)
    _emit(list_models(con, args.period, unit_code=args.unit), args.format)
    return EXIT_OK


def cmd_awards(args) -> int:
    from .proposals import ALL_COLUMNS, COLUMNS
    from .votes import decided, period_proposals
    from .weights import resolve_profile

    con = _open(args, read_only=True)
    profile = resolve_profile(con, args.period, args.profile)
    table = period_proposals(con, args.period, profile)
    if args.decided:
        _emit(decided(con, args.period, profile, proposals=table)[COLUMNS], args.format)
    elif args.all:
        _emit(table[ALL_COLUMNS], args.format)
    else:
        _emit(table[table["outcome"] == "proposed"][COLUMNS], args.format)
    return EXIT_OK


def cmd_vote(args) -> int:
    from .votes import record_vote
    from .weights import resolve_profile

    con = _open(args)
    profile = resolve_profile(con, args.period, args.profile)
    v = record_vote(con, args.period, args.unit, args.award, args.votes_for, args.votes_against, args.votes_abstain,
                    actor=_actor(args), profile=profile)
    verdict = "THÔNG QUA" if v["passed"] else "KHÔNG thông qua"
    print(f"Kỳ {args.period}, đơn vị {v['unit_code']}, {v['award_code']}: {v['votes_for']} đồng ý, "
          f"{v['votes_against']} không đồng ý, {v['votes_abstain']} không biểu quyết — {verdict} "
          f"(ngưỡng: trên {v['threshold']:.0%} số phiếu).")
    return EXIT_OK


def cmd_decision(args) -> int:
    from .documents import save
    from .paperwork import decision_document
    from .weights import resolve_profile

    con = _open(args, read_only=True)
    doc = decision_document(con, args.period, resolve_profile(con, args.period, args.profile), province=args.province)
    save(doc, args.output, args.format)
    print(f"Đã tạo dự thảo quyết định khen thưởng kỳ {args.period}: {args.output}")
    return EXIT_OK


def cmd_minutes(args) -> int:
    from .documents import save
    from .paperwork import MinutesSource, minutes_document, write_all_minutes
    from .weights import resolve_profile

    con = _open(args, read_only=True)
    if args.format == "xlsx":
        from .appraisal import minutes_xlsx

        if args.all:
            raise store.StoreError("Bảng biên bản thẩm định XLSX lập cho từng đơn vị: dùng --unit MÃ")
        args.output.write_bytes(minutes_xlsx(con, args.period, args.unit.strip()))
        print(f"Đã tạo bảng biên bản thẩm định (XLSX) của đơn vị {args.unit} kỳ {args.period}: {args.output}")
        return EXIT_OK
    src = MinutesSource(con, args.period, resolve_profile(con, args.period, args.profile))
    if args.all:
        if args.output.exists() and not args.output.is_dir():
            raise store.StoreError(f"'{args.output}' không phải thư mục (với --all, -o là thư mục)")
        n = sum(1 for _ in write_all_minutes(src, args.output, args.format))
        print(f"Đã tạo {n} biên bản thẩm định kỳ {args.period} trong {args.output}")
        return EXIT_OK
    save(minutes_document(src, args.unit.strip()), args.output, args.format)
    print(f"Đã tạo biên bản thẩm định của đơn vị {args.unit} kỳ {args.period}: {args.output}")
    return EXIT_OK


def cmd_report(args) -> int:
    from .documents import save
    from .paperwork import KINDS, report_data, report_document, report_xlsx
    from .weights import resolve_profile

    con = _open(args, read_only=True)
    profile = resolve_profile(con, args.period, args.profile)
    data = report_data(con, args.period, profile, province=args.province)
    if args.format == "xlsx":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        report_xlsx(data, args.output)
    else:
        save(report_document(con, args.period, args.kind, profile, data=data), args.output, args.format)
    print(f"Đã tạo báo cáo {KINDS[args.kind].lower()} kỳ {args.period}: {args.output}")
    return EXIT_OK


def ensure_database(path: Path, demo: bool = True) -> bool:
    """Build the embedded default on first run; True when it had to be created."""
    if path.exists():
        return False
    from .bootstrap import init_connection
    from .demo import demo_framework, fill_demo

    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    con = store.connect(tmp, create=True)
    try:
        # the demo's own periods are on its framework (v2); an empty database starts on the default
        init_connection(con, framework=demo_framework() if demo else None)
        if demo:
            fill_demo(con, cycle=True)       # the dashboard's demo shows the annual cycle
        con.execute("CHECKPOINT")
    finally:
        con.close()
    tmp.replace(path)
    return True


BUILD_DEMO_ENV = "DANVAN_BUILD_DEMO"   # set by scripts/start.sh, the README's start command


def default_demo_allowed(path: Path) -> bool:
    """May a missing ``path`` be built as a demo without being asked on the command line? Only for
    the README's start command (``scripts/start.sh`` sets DANVAN_BUILD_DEMO=1) on the default
    ``data/danvan.duckdb``: a typo in DANVAN_DB or --db, or an unmounted volume, must never turn
    into a fresh demo database whose sign-in page lists an admin account."""
    return os.environ.get(BUILD_DEMO_ENV) == "1" and Path(path).resolve() == DEFAULT_DB.resolve()


def cmd_serve(args) -> int:
    target = _db(args)
    if args.replicas < 1:
        raise store.StoreError("--replicas phải từ 1 trở lên")
    if store.shared(target):
        store.connect(target).close()   # reachable, with a clear message if not
        return _serve_processes(args, str(target))
    if args.replicas > 1:
        raise store.StoreError(
            "Nhiều tiến trình (--replicas) cần cơ sở dữ liệu dùng chung PostgreSQL (--db postgresql://…): "
            "một tệp DuckDB chỉ cho một tiến trình ghi.")
    path = Path(target).resolve()
    if not path.exists():
        if not (args.demo or args.no_demo or default_demo_allowed(path)):
            raise store.StoreMissing(
                f"Không tìm thấy cơ sở dữ liệu '{path}'. Kiểm tra lại đường dẫn (--db, DANVAN_DB); muốn tạo "
                "mới thì chạy danvan init (hoặc danvan demo để dùng thử), hoặc thêm --demo / --no-demo.")
        demo = not args.no_demo
        ensure_database(path, demo=demo)
        print(f"Đã tạo cơ sở dữ liệu {'minh họa ' if demo else ''}{path}")
    return _serve_processes(args, str(path))


def _serve_processes(args, target: str) -> int:
    """One Streamlit process, or ``--replicas N`` of them behind nginx (deploy/replicas.py)."""
    from .replicas import run_replicas, streamlit_command

    env = dict(os.environ, DANVAN_DB=target)
    if args.replicas == 1:
        print(f"Bảng điều khiển: http://{args.address}:{args.port}", flush=True)
        os.chdir(ROOT)   # the server becomes this process: a stop signal reaches it, no orphan is left
        cmd = streamlit_command(args.port, args.address)
        os.execve(cmd[0], cmd, env)
    print(f"Bảng điều khiển: http://{args.address}:{args.port} (nginx trước {args.replicas} tiến trình, "
          f"cổng {args.port + 1}–{args.port + args.replicas})")
    return run_replicas(args.replicas, args.port, args.address, env)


COMMANDS = {"init": cmd_init, "demo": cmd_demo, "criteria": cmd_criteria, "units": cmd_units,
            "template": cmd_template, "import": cmd_import, "scores": cmd_scores, "rank": cmd_rank,
            "batches": cmd_batches, "crosswalk": cmd_crosswalk,
            "undo": cmd_undo, "user": cmd_user, "unit": cmd_unit, "period": cmd_period,
            "blocks": cmd_blocks, "uncertainty": cmd_uncertainty, "models": cmd_models, "serve": cmd_serve,
            "awards": cmd_awards, "vote": cmd_vote, "decision": cmd_decision, "minutes": cmd_minutes,
            "report": cmd_report, "submit": cmd_submit, "evidence": cmd_evidence, "appraise": cmd_appraise,
            "objection": cmd_objection}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except store.StoreError as exc:
        print(f"danvan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("danvan: đã dừng.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the user never sees a traceback
        if os.environ.get("DANVAN_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"danvan: lỗi không mong đợi ({type(exc).__name__}): {first}. "
              "Đặt DANVAN_DEBUG=1 để xem chi tiết.", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
