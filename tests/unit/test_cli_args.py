"""Integer options of every command: one parser, errors that name the option, the value and the rule."""

import argparse

import pytest

from workbench.service.cli import build_parser
from workbench.service.commands.common import integer_arg


def test_integer_arg_accepts_the_range_and_names_option_value_and_rule():
    parse = integer_arg("--runs", 1, 10)
    assert parse("1") == 1 and parse("10") == 10
    for text, message in (("0", "--runs: 0 is below minimum 1"), ("11", "--runs: 11 is above maximum 10"),
                          ("ten", "--runs: 'ten' is not an integer"), ("2.5", "--runs: '2.5' is not an integer")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(text)


@pytest.mark.parametrize(("argv", "message"), [
    (["serve", "--port", "70000"], "--port: 70000 is above maximum 65535"),
    (["serve", "--port", "web"], "--port: 'web' is not an integer"),
    (["serve", "--udp-port", "0"], "--udp-port: 0 is below minimum 1"),
    (["record", "--udp", "65536"], "--udp: 65536 is above maximum 65535"),
    (["simulate", "x.race.json", "--runs", "0"], "--runs: 0 is below minimum 1"),
    (["predict", "laps.csv", "--at-lap", "0"], "--at-lap: 0 is below minimum 1"),
    (["predict", "laps.csv", "--at-lap", "3", "--seed", "-1"], "--seed: -1 is below minimum 0"),
])
def test_commands_reject_bad_integers_with_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
