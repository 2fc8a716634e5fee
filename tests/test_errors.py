"""errors: the library's error types form one family the CLI and pages catch as StoreError."""

from __future__ import annotations

import ast
from pathlib import Path

from danvan_scoring import errors, store


def test_missing_and_locked_are_store_errors():
    assert issubclass(errors.StoreMissing, errors.StoreError)
    assert issubclass(errors.StoreLocked, errors.StoreError)
    assert not issubclass(errors.StoreMissing, errors.StoreLocked)


def test_store_raises_the_same_types():
    assert (store.StoreError, store.StoreMissing, store.StoreLocked) == (
        errors.StoreError, errors.StoreMissing, errors.StoreLocked)


def test_errors_has_no_internal_imports():
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.level or 0) > 0]
