"""User-supplied text on the pages is shown as text, and no table holds a live formula
(issue 11, points 4 and 5): unit names fed with a Markdown/HTML payload and a formula."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from danvan_scoring import auth, store
from danvan_scoring.export import neutralise_formulas

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pages.formatting import md  # noqa: E402

APP = str(ROOT / "app.py")
PAYLOAD = "**x** [a](javascript:alert(1)) <img src=x onerror=alert(1)> # :red[y] $z$"
FORMULA = '=HYPERLINK("http://x.example","bấm") ' + PAYLOAD
UNIT = "18304"


def commonmark_literal(text: str) -> str:
    """What CommonMark shows for ``text`` when every special character is backslash-escaped:
    a backslash before ASCII punctuation means that character itself (spec §2.4)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def test_md_escapes_every_markdown_and_html_character():
    out = md(PAYLOAD)
    assert commonmark_literal(out) == PAYLOAD
    # no special character is left unescaped: nothing can open bold, a link, an image, a tag, LaTeX
    assert not re.search(r"(?<!\\)[*\[\]<>#:$]", out.replace("\\\\", ""))
    assert md("dòng 1\ndòng 2") == "dòng 1 dòng 2" and md(None) == "—" and md(float("nan")) == "—"


def test_neutralise_formulas_keeps_headers_and_category_dtype():
    df = pd.DataFrame({"=h": ["=1+1", "ok"], "c": pd.Categorical(["@SUM(A1)", "x"]), "n": [-1.5, 2.0]})
    out = neutralise_formulas(df, headers=False)
    assert list(out.columns) == ["=h", "c", "n"]
    assert list(out["=h"]) == ["'=1+1", "ok"]
    assert isinstance(out["c"].dtype, pd.CategoricalDtype) and list(out["c"]) == ["'@SUM(A1)", "x"]
    assert list(out["n"]) == [-1.5, 2.0]
    assert list(neutralise_formulas(df).columns) == ["'=h", "c", "n"]
    # a table's signed-number text ("+0,25") is no formula: kept as it is on the pages, still quoted in exports
    signed = pd.DataFrame({"d": ["+0,25", "-3,50", "-1=1", "+SUM(A1)"]})
    assert list(neutralise_formulas(signed, keep_numbers=True)["d"]) == ["+0,25", "-3,50", "'-1=1", "'+SUM(A1)"]
    assert list(neutralise_formulas(signed)["d"]) == ["'+0,25", "'-3,50", "'-1=1", "'+SUM(A1)"]


@pytest.fixture(scope="module")
def payload_db(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("safety") / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    con = store.connect(path)
    with store.write(con, auth.CLI_ACTOR, "units", action="test:rename", target=UNIT) as w:
        w.con.execute("UPDATE units SET name = ? WHERE unit_code = ?", [FORMULA, UNIT])
        # the other imported text a page shows: evidence and notes of scores, the model registry
        w.con.execute("UPDATE score_entries SET evidence = ?, note = ? WHERE unit_code = ?",
                      [PAYLOAD, PAYLOAD, UNIT])
        w.con.execute("UPDATE model_entries SET name = ?, evidence = ?, note = ? WHERE unit_code = ?",
                      [PAYLOAD, PAYLOAD, PAYLOAD, UNIT])
    con.close()
    old = os.environ.get("DANVAN_DB")
    os.environ["DANVAN_DB"] = str(path)
    yield path
    if old is None:
        os.environ.pop("DANVAN_DB", None)
    else:
        os.environ["DANVAN_DB"] = old


def signed_in(db: Path) -> AppTest:
    os.environ["DANVAN_DB"] = str(db)
    at = AppTest.from_file(APP, default_timeout=60).run()
    next(t for t in at.text_input if t.label == "Tên đăng nhập").input("quantri")
    next(t for t in at.text_input if t.label == "Mật khẩu").input("demo")
    next(b for b in at.button if b.label == "Đăng nhập").click().run()
    return at


def test_ranking_table_holds_no_live_formula(payload_db):
    at = signed_in(payload_db)
    at.switch_page("pages/xep-hang.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    name = table.loc[table["Mã"] == UNIT, "Đơn vị"].iloc[0]
    assert name == "'" + FORMULA   # what the toolbar's "Download as CSV" exports
    for col in table.columns:
        if table[col].dtype == object or isinstance(table[col].dtype, pd.CategoricalDtype):
            assert not table[col].astype(str).str.startswith(("=", "+", "-", "@")).any(), col


def test_profile_shows_the_unit_name_literally(payload_db):
    at = signed_in(payload_db)
    at.query_params["unit"] = UNIT
    at.switch_page("pages/ho-so.py").run()
    assert not at.exception
    heads = [s.value for s in at.subheader]
    assert md(FORMULA) in heads and commonmark_literal(md(FORMULA)) == FORMULA
    # nowhere on the page is the raw payload handed to Markdown unescaped
    for el in [*at.markdown, *at.caption, *at.subheader, *at.success, *at.info, *at.warning]:
        assert not re.search(r"(?<!\\)\*\*x|(?<!\\)\]\(javascript|(?<!\\)<img", el.value), el.value


PROFILE_TABS = ["Điểm theo tiêu chí", "Điểm mạnh, điểm yếu so với khối", "Tiêu chí bị mất điểm", "Lịch sử",
                "Mô hình “Dân vận khéo”"]
UNESCAPED = re.compile(r"(?<!\\)\*\*x|(?<!\\)\]\(javascript|(?<!\\)<img|(?<!\\):red\[")


def _markdown_texts(at: AppTest) -> list[str]:
    """Every string Streamlit renders as Markdown on the page."""
    out = [el.value for kind in ("markdown", "caption", "subheader", "header", "title", "success", "info",
                                 "warning", "error") for el in getattr(at, kind)]
    out += [e.label for e in at.expander] + [t.label for t in at.tabs] + [m.label for m in at.metric]
    return [str(x) for x in out if x]


@pytest.mark.parametrize("path", [p for p in __import__("pages.common", fromlist=["PAGES"]).PAGES])
def test_every_page_shows_imported_text_as_text(payload_db, path):
    """The payload sits in a unit's name, its scores' evidence and notes and its models' names,
    evidence and notes; every page an admin opens, on that unit where the page takes one, hands none
    of it to Markdown unescaped."""
    from pages.common import PAGES

    at = signed_in(payload_db)
    at.query_params["unit"] = UNIT
    at.session_state["swing_open"] = True   # the profile's lazy rank-swing expander, drawn when open
    at.switch_page(PAGES[path][0]).run()
    assert not at.exception, f"{path}: {at.exception}"
    bad = [t[:120] for t in _markdown_texts(at) if UNESCAPED.search(t)]
    assert not bad, f"{path}: unescaped payload in {bad}"
    for label in PROFILE_TABS if path == "ho-so" else ():   # lazy tabs: each drawn once opened
        at.session_state["profile_view"] = label
        at.run()
        assert not at.exception, f"{path}/{label}: {at.exception}"
        bad = [t[:120] for t in _markdown_texts(at) if UNESCAPED.search(t)]
        assert not bad, f"{path}/{label}: unescaped payload in {bad}"


def test_the_payload_is_on_the_profile_so_the_page_test_can_fail(payload_db):
    at = signed_in(payload_db)
    at.query_params["unit"] = UNIT
    at.switch_page("pages/ho-so.py").run()
    shown = " ".join(_markdown_texts(at)) + " ".join(str(d.value.to_dict()) for d in at.dataframe)
    assert "javascript" in shown, "the payload should reach the profile (escaped), else the test above checks nothing"
