"""Small helpers shared by the AppTest suites (widgets found by their Vietnamese label)."""

from __future__ import annotations

import os
from contextlib import contextmanager


def field(at, label):
    return next(t for t in at.text_input if t.label == label)


def button(at, label):
    return next(b for b in at.button if b.label == label)


@contextmanager
def danvan_db_env(path):
    """Point the app at ``path`` (DANVAN_DB) for the block, then restore what was there."""
    old = os.environ.get("DANVAN_DB")
    if path is not None:
        os.environ["DANVAN_DB"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("DANVAN_DB", None)
        else:
            os.environ["DANVAN_DB"] = old
