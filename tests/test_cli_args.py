"""The argument table of ``danvan``: every command parses, usage errors are one Vietnamese line."""

from __future__ import annotations

import argparse

import pytest

from danvan_scoring import cli
from danvan_scoring.cli_args import EXIT_USAGE, build_parser


def test_every_subcommand_has_an_implementation():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(cli.COMMANDS)


def test_a_usage_error_is_one_vietnamese_line(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["rank"])
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "thiếu tham số bắt buộc" in err and "--period" in err
