"""Shared bits of the annual-cycle tests: accounts, a tiny PDF, a fresh period."""

from __future__ import annotations

import pytest

from danvan_scoring import lifecycle
from danvan_scoring.permissions import Actor

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00" + b"\x00" * 60
SCRIPT = b"#!/bin/sh\nrm -rf /\n"

ADMIN = Actor("quantri", "admin")
CHAIR = Actor("chutich", "council", is_chair=True)
COUNCIL = Actor("hoidong", "council")
STAFF = Actor("canbo", "staff")
LEADER = Actor("lanhdao", "leader")
P = "2025"


@pytest.fixture(name="con")
def self_assessment_con(empty_con, tmp_path, monkeypatch):
    """The empty database with period 2025 in self-assessment, evidence under tmp_path (imported by
    the test modules that take it as ``con``)."""
    monkeypatch.setenv("DANVAN_EVIDENCE_DIR", str(tmp_path / "ev"))
    lifecycle.advance(empty_con, P, actor=ADMIN)
    return empty_con


def unit_actor(code: str) -> Actor:
    return Actor(f"xa_{code}", "unit", unit_code=code)


def two_units(con) -> tuple[str, str]:
    rows = con.execute("SELECT unit_code FROM units WHERE unit_type <> 'co_quan' ORDER BY unit_code LIMIT 2").fetchall()
    return rows[0][0], rows[1][0]
