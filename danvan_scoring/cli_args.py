"""The argument table of the ``danvan`` command: every subcommand and option, with Vietnamese
help and one-line Vietnamese usage errors. The commands themselves are in ``cli``."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __version__, store, units
from .paths import db_target

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse with Vietnamese one-line errors."""

    def error(self, message: str):  # noqa: D401
        message = (message.replace("the following arguments are required", "thiếu tham số bắt buộc")
                   .replace("invalid choice", "lựa chọn không hợp lệ")
                   .replace("choose from", "chọn một trong")
                   .replace("unrecognized arguments", "tham số không nhận ra")
                   .replace("expected one argument", "cần một giá trị")
                   .replace("invalid int value", "không phải số nguyên")
                   .replace("invalid float value", "không phải số"))
        self.exit(EXIT_USAGE, f"danvan: lỗi: {message} (xem: {self.prog} --help)\n")


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=db_target, default=None,
                   help="tệp DuckDB hoặc URL postgresql://… (mặc định $DANVAN_DB, nếu không có thì "
                        "data/danvan.duckdb)")


def _fmt_arg(p, choices=("csv",), default="csv"):
    p.add_argument("--format", choices=choices, default=default, help="định dạng đầu ra")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="danvan", description="Chấm điểm công tác dân vận và phong trào thi đua “Dân vận khéo”.")
    ap.add_argument("--version", action="version", version=f"danvan {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="LỆNH", parser_class=_Parser)

    p = sub.add_parser("init", help="tạo cơ sở dữ liệu: bộ tiêu chí, danh mục đơn vị, trọng số mặc định")
    _db_arg(p)
    p.add_argument("--period", action="append", help="kỳ đánh giá cần tạo (mặc định 2025); lặp lại được")

    p = sub.add_parser("demo", help="điền dữ liệu MINH HỌA (tổng hợp ngẫu nhiên) để dùng thử")
    _db_arg(p)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--cycle", action="store_true",
                   help="đưa kỳ mới nhất vào giữa chu trình (đã nộp, quá hạn, kiến nghị) như bản minh họa của bảng điều khiển")
    p.add_argument("--force", action="store_true",
                   help="điền cả vào cơ sở dữ liệu đã có tài khoản thật (không thêm tài khoản mẫu)")

    p = sub.add_parser("criteria", help="liệt kê tiêu chí của một kỳ")
    _db_arg(p)
    p.add_argument("--period", required=True)
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("units", help="liệt kê đơn vị")
    _db_arg(p)
    p.add_argument("--province", help="mã tỉnh 2 chữ số, ví dụ 42")
    p.add_argument("--period", help="kỳ để lấy khối thi đua (mặc định: kỳ mới nhất)")
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("template", help="tạo mẫu tệp nhập điểm cho một kỳ")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--layout", choices=("long", "wide"), default="long")
    _fmt_arg(p, ("csv", "xlsx"))
    p.add_argument("--province", help="chỉ các đơn vị của tỉnh này")
    p.add_argument("-o", "--output", type=Path, required=True)

    p = sub.add_parser("import", help="kiểm tra toàn bộ tệp rồi nhập trong một lần nhập, hoặc không ghi gì")
    p.add_argument("file", type=Path)
    _db_arg(p)
    p.add_argument("--period")
    p.add_argument("--stage", choices=store.STAGES)
    p.add_argument("--sheet", help="tên trang tính (XLSX)")
    p.add_argument("--dry-run", action="store_true", help="chỉ báo cáo mới / thay đổi / không đổi, không ghi")
    p.add_argument("--kind", choices=("scores", "models"), default="scores",
                   help="loại dữ liệu: điểm (mặc định) hoặc danh sách mô hình")
    p.add_argument("--user", default=None, help="người nhập (ghi vào nhật ký), mặc định tên người dùng hệ thống")

    p = sub.add_parser("scores", help="điểm hiện hành, dạng dài")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--stage", choices=store.STAGES)
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("rank", help="bảng xếp hạng của một kỳ")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--profile", help="tên bộ trọng số (mặc định: bộ chính thức của kỳ)")
    p.add_argument("--map-to-new", action="store_true",
                   help="kỳ trước 01/07/2025: chuyển kết quả của đơn vị cũ sang đơn vị mới (ước tính)")
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("crosswalk", help="bảng chuyển đổi đơn vị cũ (trước 01/07/2025) sang đơn vị mới")
    _db_arg(p)
    p.add_argument("--unit", help="mã đơn vị mới: các đơn vị cũ hợp thành nó")
    p.add_argument("--legacy", help="mã đơn vị cũ: các đơn vị mới nó chuyển thành")
    _fmt_arg(p)

    p = sub.add_parser("batches", help="liệt kê các lần nhập")
    _db_arg(p)
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("undo", help="hủy một lần nhập, khôi phục đúng các giá trị nó đã thay")
    p.add_argument("batch", type=int)
    _db_arg(p)
    p.add_argument("--user", default=None)

    p = sub.add_parser("user", help="tài khoản đăng nhập")
    usub = p.add_subparsers(dest="user_command", metavar="LỆNH", parser_class=_Parser)
    pa = usub.add_parser("add", help="tạo tài khoản")
    pa.add_argument("name")
    pa.add_argument("--role", required=True, choices=("leader", "council", "staff", "admin", "unit"))
    pa.add_argument("--unit", help="mã đơn vị của tài khoản cán bộ đơn vị (bắt buộc với --role unit)")
    pa.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ stdin")
    pa.add_argument("--chair", action="store_true", help="chủ tịch hội đồng (được công bố kết quả)")
    _db_arg(pa)
    pl = usub.add_parser("list", help="liệt kê tài khoản")
    _db_arg(pl)
    pp = usub.add_parser("passwd", help="đặt lại mật khẩu của một tài khoản (quản trị)")
    pp.add_argument("name")
    pp.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu mới từ stdin")
    _db_arg(pp)

    p = sub.add_parser("unit", help="thêm cơ quan, đơn vị ngoài danh mục xã, phường")
    usub2 = p.add_subparsers(dest="unit_command", metavar="LỆNH", parser_class=_Parser)
    pa = usub2.add_parser("add", help="thêm một cơ quan, đơn vị (loại co_quan) vào một tỉnh")
    pa.add_argument("code", help="mã đơn vị, ví dụ CQ4201")
    pa.add_argument("--name", required=True)
    pa.add_argument("--province", required=True, help="mã tỉnh 2 chữ số")
    pa.add_argument("--type", default="co_quan", choices=tuple(units.UNIT_TYPES))
    _db_arg(pa)

    p = sub.add_parser("period", help="kỳ đánh giá")
    psub = p.add_subparsers(dest="period_command", metavar="LỆNH", parser_class=_Parser)
    pa = psub.add_parser("add", help="thêm kỳ (dùng bộ tiêu chí mặc định hoặc --framework FILE)")
    pa.add_argument("period")
    pa.add_argument("--framework", type=Path)
    _db_arg(pa)
    pl = psub.add_parser("list", help="liệt kê các kỳ")
    _db_arg(pl)
    ps = psub.add_parser("status", help="giai đoạn hiện tại của kỳ, hạn, tiến độ nộp hồ sơ, lịch sử")
    ps.add_argument("period")
    _db_arg(ps)
    pv = psub.add_parser("advance", help="chuyển kỳ sang giai đoạn kế tiếp (Chủ tịch Hội đồng, quản trị)")
    pv.add_argument("period")
    pv.add_argument("--deadline", help="hạn của giai đoạn mới, dạng YYYY-MM-DD")
    _db_arg(pv)
    pr = psub.add_parser("reopen", help="mở lại (lùi) kỳ về một giai đoạn trước, có lý do")
    pr.add_argument("period")
    pr.add_argument("--to", required=True, choices=("open", "self_assessment", "appraisal", "provisional",
                                                     "objections", "decided", "locked"))
    pr.add_argument("--reason", required=True)
    pr.add_argument("--deadline", help="hạn mới, dạng YYYY-MM-DD (gia hạn)")
    _db_arg(pr)

    p = sub.add_parser("submit", help="nộp hồ sơ tự đánh giá của một đơn vị (sau đó hồ sơ bị khóa)")
    p.add_argument("--period", required=True)
    p.add_argument("--unit", required=True)
    _db_arg(p)
    p.add_argument("--user", default=None)

    p = sub.add_parser("evidence", help="tệp minh chứng của hồ sơ tự đánh giá")
    esub = p.add_subparsers(dest="evidence_command", metavar="LỆNH", parser_class=_Parser)
    pa = esub.add_parser("add", help="đính kèm một tệp minh chứng cho một tiêu chí của đơn vị")
    pa.add_argument("file", type=Path)
    pa.add_argument("--unit", required=True)
    pa.add_argument("--period", required=True)
    pa.add_argument("--criterion", required=True)
    _db_arg(pa)
    pa.add_argument("--user", default=None)
    pl = esub.add_parser("list", help="liệt kê tệp minh chứng của kỳ (một đơn vị: --unit)")
    pl.add_argument("--period", required=True)
    pl.add_argument("--unit")
    _db_arg(pl)
    _fmt_arg(pl, ("csv", "json"))
    pg = esub.add_parser("get", help="lấy lại đúng tệp đã đính kèm")
    pg.add_argument("id", type=int)
    pg.add_argument("-o", "--output", type=Path, required=True)
    _db_arg(pg)

    p = sub.add_parser("appraise", help="thẩm định một tiêu chí của một đơn vị")
    p.add_argument("--period", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--criterion", required=True)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--accept", action="store_true", help="chấp nhận điểm tự chấm")
    how.add_argument("--value", type=float, help="điểm thẩm định khác (cần --reason)")
    how.add_argument("--reject-evidence", action="store_true", help="minh chứng không hợp lệ (cần --reason)")
    p.add_argument("--reason")
    _db_arg(p)
    p.add_argument("--user", default=None)

    p = sub.add_parser("objection", help="kiến nghị của đơn vị về kết quả tạm thời")
    osub = p.add_subparsers(dest="objection_command", metavar="LỆNH", parser_class=_Parser)
    pa = osub.add_parser("add", help="đơn vị gửi kiến nghị (giai đoạn tiếp nhận kiến nghị)")
    pa.add_argument("--period", required=True)
    pa.add_argument("--unit", required=True)
    pa.add_argument("--criterion")
    pa.add_argument("--text", required=True)
    _db_arg(pa)
    pa.add_argument("--user", default=None)
    pl = osub.add_parser("list", help="liệt kê kiến nghị của kỳ")
    pl.add_argument("--period", required=True)
    _db_arg(pl)
    _fmt_arg(pl, ("csv", "json"))
    pv = osub.add_parser("resolve", help="Hội đồng giải quyết một kiến nghị")
    pv.add_argument("id", type=int)
    yes = pv.add_mutually_exclusive_group(required=True)
    yes.add_argument("--accept", action="store_true", help="chấp nhận: mở lại thẩm định cho đơn vị đó")
    yes.add_argument("--reject", action="store_true", help="không chấp nhận")
    pv.add_argument("--text", required=True)
    _db_arg(pv)
    pv.add_argument("--user", default=None)

    p = sub.add_parser("blocks", help="khối, cụm thi đua của một kỳ")
    bsub = p.add_subparsers(dest="blocks_command", metavar="LỆNH", parser_class=_Parser)
    pl = bsub.add_parser("list", help="liệt kê khối thi đua")
    pl.add_argument("--period", required=True)
    _db_arg(pl)
    _fmt_arg(pl, ("csv", "json"))
    pi = bsub.add_parser("import", help="thay khối thi đua của kỳ bằng tệp CSV unit_code,block_code,block_name")
    pi.add_argument("file", type=Path)
    pi.add_argument("--period", required=True)
    _db_arg(pi)

    p = sub.add_parser("uncertainty", help="độ vững của thứ hạng khi trọng số thay đổi (Monte Carlo)")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--profile")
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--spread", type=float, default=0.25, help="biên độ dao động trọng số, mặc định ±25%%")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=10, help="k của cột p_top10 (mặc định 10)")
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("models", help="danh sách mô hình, điển hình “Dân vận khéo”")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--unit")
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("awards", help="đề nghị khen thưởng theo danh mục (chỉ tiêu xét theo thứ hạng)")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--profile", help="tên bộ trọng số (mặc định: bộ chính thức của kỳ)")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--all", action="store_true", help="kèm các đơn vị bị cắt do chỉ tiêu, với lý do")
    shown.add_argument("--decided", action="store_true", help="chỉ các đề nghị Hội đồng đã biểu quyết thông qua")
    _fmt_arg(p, ("csv", "json"))

    p = sub.add_parser("vote", help="ghi kết quả biểu quyết của Hội đồng về một đề nghị khen thưởng")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--award", required=True, help="mã hình thức khen thưởng, ví dụ co_thi_dua")
    p.add_argument("--for", dest="votes_for", type=int, required=True, help="số phiếu đồng ý")
    p.add_argument("--against", dest="votes_against", type=int, required=True, help="số phiếu không đồng ý")
    p.add_argument("--abstain", dest="votes_abstain", type=int, required=True, help="số phiếu không biểu quyết")
    p.add_argument("--profile", help="bộ trọng số của danh sách đề nghị (mặc định: bộ chính thức)")
    p.add_argument("--user", default=None)

    p = sub.add_parser("decision", help="dự thảo quyết định khen thưởng (kèm danh sách) theo kết quả biểu quyết")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--profile")
    p.add_argument("--province", help="chỉ các đơn vị của tỉnh này (mã 2 chữ số)")
    _fmt_arg(p, ("docx", "pdf"), default="docx")
    p.add_argument("-o", "--output", type=Path, required=True)

    p = sub.add_parser("minutes", help="biên bản thẩm định của một đơn vị (--unit) hoặc mọi đơn vị (--all)")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--profile")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--unit")
    which.add_argument("--all", action="store_true", help="mọi đơn vị của kỳ; -o là thư mục")
    _fmt_arg(p, ("docx", "pdf", "xlsx"), default="docx")
    p.add_argument("-o", "--output", type=Path, required=True)

    p = sub.add_parser("report", help="báo cáo tổng kết / sơ kết của một kỳ")
    _db_arg(p)
    p.add_argument("--period", required=True)
    p.add_argument("--kind", choices=("tong-ket", "so-ket"), default="tong-ket")
    p.add_argument("--profile")
    p.add_argument("--province", help="chỉ các đơn vị của tỉnh này (mã 2 chữ số)")
    _fmt_arg(p, ("docx", "pdf", "xlsx"), default="docx")
    p.add_argument("-o", "--output", type=Path, required=True)

    p = sub.add_parser("serve", help="mở bảng điều khiển (cơ sở dữ liệu phải có sẵn, trừ khi có --demo/--no-demo)")
    _db_arg(p)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1",
                   help="địa chỉ lắng nghe (mặc định 127.0.0.1: chỉ máy này; đặt reverse proxy phía trước)")
    new = p.add_mutually_exclusive_group()
    new.add_argument("--demo", action="store_true", help="chưa có cơ sở dữ liệu thì tạo kèm dữ liệu minh họa")
    new.add_argument("--no-demo", action="store_true", help="chưa có cơ sở dữ liệu thì tạo cơ sở dữ liệu trống")
    p.add_argument("--replicas", type=int, default=1,
                   help="số tiến trình bảng điều khiển (cần --db postgresql://…); N > 1: các tiến trình nghe "
                        "cổng PORT+1…PORT+N, nginx nghe cổng PORT và chia phiên (sticky) cho chúng")
    return ap
