"""The dashboard under load in real browsers (issue 3, "Speed": under load).

    .venv/bin/python benchmarks/bench_load.py [--sessions 10] [--seconds 60] [--provinces *]
    .venv/bin/python benchmarks/bench_load.py --sessions 3 --seconds 15      # a quick check
    .venv/bin/python benchmarks/bench_load.py --think 2,6                     # people, not robots

One Streamlit server (``streamlit run app.py``, the project's config) on a temporary
database — by default all 3,321 communes × 3 periods — and one headless Chromium with
``--sessions`` signed-in tabs (separate browser contexts: leaders and council members)
that browse for ``--seconds``: switch pages, change the period, filter a province — back to
back by default (a stress test: 12 Chromium tabs and the server share the machine's cores), or
pausing a random ``--think MIN,MAX`` seconds between steps, as a reader does. While
they do, a staff session uploads a CSV through the file input and confirms the import,
and a council session saves a weight profile. Every interaction is timed (input → script
finished) and every page is checked for an error (stException, or the dashboard's own
"unexpected error" message); a timeout counts as an error.

Afterwards the server is stopped and the database read with the library: the import's
batch and its values, and the saved profile, must be there (no lost write).
Loopback only; every loop is bounded by the deadline and every wait by a timeout.
Exit status 1 on any error or lost write.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import cases  # noqa: E402
import st_harness as h  # noqa: E402
from bench_ui import pct  # noqa: E402  (one percentile rule for both benchmarks)

from danvan_scoring import batches

BROWSE_PAGES = ["tong-quan", "xep-hang", "so-sanh", "ho-so"]
PROFILE_NAME = "tai-thu-nghiem"


class Session:
    """One signed-in browser context, async."""

    def __init__(self, name: str, ctx, page, base: str, stats: "Stats"):
        self.name, self.ctx, self.page, self.base, self.stats = name, ctx, page, base, stats

    async def ready(self, min_runs=1, min_msgs=0, timeout=60_000):
        await self.page.wait_for_function(h._READY_JS, arg=[min_runs, min_msgs], timeout=timeout, polling=100)

    async def rerun(self, action, what: str, timeout=60_000) -> float | None:
        """Run ``action`` (a coroutine function), wait for its rerun; time it and check the page."""
        before, msgs = await self.page.evaluate("[window.__stRuns || 0, window.__wsIn || 0]")
        t0 = time.perf_counter()
        try:
            await action()
            await self.ready(before + 1, msgs + 1, timeout)
        except Exception as exc:  # noqa: BLE001 — a timeout is an error of the run, not of the benchmark
            self.stats.error(self.name, what, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            return None
        dt = time.perf_counter() - t0
        await self.check(what)
        return dt

    async def check(self, what: str) -> None:
        loc = self.page.locator("[data-testid='stException']")
        for i in range(await loc.count()):
            self.stats.error(self.name, what, (await loc.nth(i).inner_text())[:300])
        for text in h.PAGE_ERROR_TEXTS:
            alerts = self.page.locator("[data-testid='stAlert']").filter(has_text=text)
            for i in range(await alerts.count()):
                self.stats.error(self.name, what, (await alerts.nth(i).inner_text())[:300])

    async def sign_in(self, username: str) -> None:
        await self.page.goto(self.base, wait_until="domcontentloaded")
        await self.ready()
        await self.page.get_by_label("Tên đăng nhập").fill(username)
        await self.page.get_by_label("Mật khẩu").fill(h.DEMO_PASSWORD)
        await self.rerun(lambda: self.page.get_by_role("button", name="Đăng nhập").click(), "sign-in")
        await self.page.get_by_role("button", name="Đăng xuất").first.wait_for(timeout=60_000)
        await self.ready()

    async def nav_paths(self) -> list[str]:
        import urllib.parse
        hrefs = await self.page.eval_on_selector_all(h.NAV_LINKS, "els => els.map(e => e.getAttribute('href'))")
        return [urllib.parse.urlsplit(x).path.strip("/").rsplit("/", 1)[-1] or h.DEFAULT_PAGE for x in hrefs]

    async def open(self, path: str) -> float | None:
        paths = await self.nav_paths()
        if path not in paths:
            self.stats.error(self.name, f"open {path}", f"no link; links {paths}")
            return None
        link = self.page.locator(h.NAV_LINKS).nth(paths.index(path))
        return await self.rerun(lambda: link.click(), f"open {path}")

    async def pick(self, label: str, option: str | None = None) -> float | None:
        box = self.page.get_by_role("combobox", name=label, exact=True).first
        if not await box.count():
            return None

        async def act():
            await box.click()
            opts = self.page.locator("[role='option']:not([data-key='__select_all__'])")
            await opts.first.wait_for(timeout=10_000)
            if option is not None:
                await self.page.get_by_role("option", name=option, exact=True).first.click()
                return
            # never the option already chosen: that would not rerun, and the wait would time out
            free = [i for i in range(await opts.count())
                    if await opts.nth(i).get_attribute("aria-selected") != "true"]
            await opts.nth(random.choice(free)).click()
        t = await self.rerun(act, f"pick {label}")
        await self.page.keyboard.press("Escape")
        return t


class Stats:
    def __init__(self):
        self.times: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.errors: list[tuple[str, str, str]] = []

    def add(self, kind: str, t: float | None) -> None:
        if t is not None:
            self.times.append(t)
            self.by_kind.setdefault(kind, []).append(t)

    def error(self, who: str, what: str, text: str) -> None:
        self.errors.append((who, what, text))


async def browse(s: Session, deadline: float, rng: random.Random, think: tuple[float, float] = (0.0, 0.0)) -> int:
    n = 0
    while time.monotonic() < deadline:
        if think[1] > 0:
            await asyncio.sleep(min(rng.uniform(*think), max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
        r = rng.random()
        if r < 0.5:
            path = rng.choice(BROWSE_PAGES)
            s.stats.add("page switch", await s.open(path))
        elif r < 0.8:
            s.stats.add("period change", await s.pick("Kỳ đánh giá"))
        else:
            t = await s.pick("Tỉnh, thành phố")
            s.stats.add("province filter", t)
            if t is not None:   # and remove it again, so tables stay big
                box = s.page.get_by_role("combobox", name="Tỉnh, thành phố").first

                async def clear(box=box):
                    await box.focus()
                    await s.page.keyboard.press("Backspace")
                s.stats.add("province filter", await s.rerun(clear, "province clear"))
        n += 1
    return n


async def staff_import(s: Session, case: cases.UploadCase, csv: Path, at: float, out: dict) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    t0 = time.perf_counter()
    await s.open("nhap-du-lieu")
    inp = s.page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    await s.rerun(lambda: inp.set_input_files(str(csv)), "choose upload file")
    confirm = s.page.get_by_role("button", name="Xác nhận nhập")
    try:
        await confirm.wait_for(timeout=60_000)
    except Exception as exc:  # noqa: BLE001
        s.stats.error(s.name, "import", f"no confirm button: {exc}")
        return
    t = await s.rerun(lambda: confirm.click(), "confirm import", timeout=120_000)
    ok = s.page.locator("[data-testid='stAlert']").filter(has_text="Đã nhập")   # after the page's st.rerun
    try:
        await ok.first.wait_for(timeout=60_000)
    except Exception as exc:  # noqa: BLE001
        s.stats.error(s.name, "import", f"no success message: {str(exc).splitlines()[0]}")
    out["import_seconds"] = time.perf_counter() - t0
    out["import_confirm_seconds"] = t
    out["import_message"] = (await ok.first.inner_text())[:200] if await ok.count() else None


async def council_save(s: Session, at: float, out: dict) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    t0 = time.perf_counter()
    await s.open("trong-so")
    num = s.page.locator("[data-testid='stNumberInput'] input").first
    await num.wait_for(timeout=60_000)
    old = float((await num.input_value()).replace(",", "."))
    out["saved_group_weight"] = old + 3
    await num.fill(f"{old + 3:g}")
    await num.press("Tab")
    await s.page.get_by_role("textbox", name="Tên bộ trọng số").fill(PROFILE_NAME)
    await s.page.get_by_role("textbox", name="Ghi chú").fill("thử tải: 10 phiên cùng lúc")
    t = await s.rerun(lambda: s.page.get_by_role("button", name="Lưu bộ trọng số").click(), "save weights",
                      timeout=120_000)
    ok = s.page.locator("[data-testid='stAlert']").filter(has_text="Đã lưu bộ trọng số")
    out["save_seconds"] = time.perf_counter() - t0
    out["save_submit_seconds"] = t
    out["save_message"] = (await ok.first.inner_text())[:200] if await ok.count() else None


async def run(args, db: Path, case: cases.UploadCase, csv: Path) -> tuple[Stats, dict, int]:
    from playwright.async_api import async_playwright

    stats, writes = Stats(), {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=h.chromium_path(), headless=True, args=h.CHROMIUM_ARGS)

        async def session(name: str, user: str) -> Session:
            ctx = await browser.new_context(viewport={"width": 1366, "height": 800}, locale="vi-VN")
            await ctx.add_init_script(h._RUN_COUNTER)
            ctx.set_default_timeout(60_000)
            s = Session(name, ctx, await ctx.new_page(), args.url, stats)
            await s.sign_in(user)
            return s

        users = [h.ROLE_USERS["leader"] if i % 2 == 0 else h.ROLE_USERS["council"] for i in range(args.sessions)]
        t = time.perf_counter()
        browsers = []
        for i in range(0, len(users), 3):   # sign in a few at a time (argon2 is deliberately slow)
            browsers += await asyncio.gather(*(session(f"s{j}", users[j]) for j in range(i, min(i + 3, len(users)))))
        staff = await session("staff", h.ROLE_USERS["staff"])
        council = await session("council-writer", h.ROLE_USERS["council"])
        print(f"{len(browsers)} browsing sessions + 2 writers signed in in {time.perf_counter() - t:.1f} s")

        start = time.monotonic()
        deadline = start + args.seconds
        rng = random.Random(args.seed)
        tasks = [browse(s, deadline, random.Random(rng.random()), args.think) for s in browsers]
        tasks.append(staff_import(staff, case, csv, start + args.seconds * 0.3, writes))
        tasks.append(council_save(council, start + args.seconds * 0.5, writes))
        counts = await asyncio.gather(*tasks)
        elapsed = time.monotonic() - start
        await browser.close()
    return stats, {**writes, "elapsed": elapsed}, sum(c for c in counts if isinstance(c, int))


def verify(db: Path, case: cases.UploadCase, writes: dict) -> list[str]:
    """What the UI confirmed must be in the file."""
    from danvan_scoring import store, weights

    lost = []
    con = store.connect(db, read_only=True)
    try:
        b = batches.batches(con)
        mine = b[b["filename"].astype(str) == case.filename]
        if mine.empty:
            lost.append(f"no batch for {case.filename}")
        cur = batches.current_scores(con, case.period, stage="appraised")
        cur = cur[cur["unit_code"] == case.unit_code]
        import io

        import pandas as pd
        sent = pd.read_csv(io.BytesIO(case.data), dtype={"unit_code": str, "period": str})
        vcol = "score" if "score" in cur.columns else "value"
        got = dict(zip(cur["criterion_code"], cur[vcol]))
        wrong = [c for c, v in zip(sent["criterion_code"], sent["score"]) if abs(float(got.get(c, -1)) - v) > 1e-9]
        if wrong:
            lost.append(f"values not current for {case.unit_code}: {wrong[:5]}")
        profiles = weights.list_profiles(con)
        if not (profiles["name"] == PROFILE_NAME).any():
            lost.append(f"profile {PROFILE_NAME} not saved")
        else:
            pid = int(profiles.loc[profiles["name"] == PROFILE_NAME, "profile_id"].max())
            prof = weights.load_profile_id(con, pid)
            if "saved_group_weight" in writes and \
                    abs(sorted(prof.groups.items())[0][1] - writes["saved_group_weight"]) > 1e-9:
                lost.append(f"profile {PROFILE_NAME}: first group weight {sorted(prof.groups.items())[0]} "
                            f"≠ {writes['saved_group_weight']}")
    finally:
        con.close()
    return lost


def think_range(text: str) -> tuple[float, float]:
    parts = [float(x) for x in text.split(",")]
    lo, hi = (parts[0], parts[0]) if len(parts) == 1 else parts[:2]
    if lo < 0 or hi < lo:
        raise argparse.ArgumentTypeError("--think takes MIN,MAX seconds with 0 ≤ MIN ≤ MAX, e.g. 2,6")
    return lo, hi


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10, help="browsing sessions (default 10)")
    ap.add_argument("--seconds", type=float, default=60, help="how long they browse (default 60)")
    ap.add_argument("--provinces", default="*", help="comma-separated province codes, or * for all (default)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--think", default="0", type=think_range,
                    help="pause MIN,MAX seconds (uniform) before each browse step; 0 = none (default)")
    ap.add_argument("--app", type=Path, default=ROOT / "app.py")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        db = h.make_demo_db(tmp / "load.duckdb", provinces=["*"] if args.provinces == "*" else args.provinces.split(","))
        case = cases.upload_case(db, filename="tai-nhap-thu.csv")
        csv = tmp / case.filename
        csv.write_bytes(case.data)
        print(f"database and upload case ready in {time.perf_counter() - t:.1f} s "
              f"(upload raises {case.unit_name} from rank {case.before_rank} to {case.after_rank})")
        srv = h.StreamlitServer(args.app, db=db, log_dir=tmp)
        srv.start()
        try:
            args.url = srv.url
            stats, writes, n = asyncio.run(run(args, db, case, csv))
        finally:
            srv.stop()
        lost = verify(db, case, writes)

    print()
    pace = "back to back" if args.think[1] == 0 else f"pausing {args.think[0]:g}–{args.think[1]:g} s between steps"
    print(f"{args.sessions} sessions × {writes['elapsed']:.0f} s, {pace}: {n} browse steps, {len(stats.times)} timed "
          f"interactions, {len(stats.errors)} errors")
    print(f"{'interaction':<18}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind, xs in [("all", stats.times), *sorted(stats.by_kind.items())]:
        print(f"{kind:<18}{len(xs):>6}{pct(xs, .5) * 1000:>10.0f}{pct(xs, .95) * 1000:>10.0f}"
              f"{(max(xs) if xs else float('nan')) * 1000:>10.0f}")
    print(f"import: {writes.get('import_seconds', float('nan')):.2f} s from opening the page "
          f"(confirm → done {writes.get('import_confirm_seconds') or float('nan'):.2f} s): "
          f"{writes.get('import_message')!r}")
    print(f"weights: {writes.get('save_seconds', float('nan')):.2f} s from opening the page "
          f"(save → done {writes.get('save_submit_seconds') or float('nan'):.2f} s): {writes.get('save_message')!r}")
    for who, what, text in stats.errors[:15]:
        print(f"  ERROR {who} · {what}: {text}")
    print("writes: " + ("all present in the database" if not lost else "LOST: " + "; ".join(lost)))
    return 1 if stats.errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
