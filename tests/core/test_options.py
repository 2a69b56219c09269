"""KEY=VALUE option text (the CLI's --source-option, the web form's source options)."""

import pytest
from adu_core.errors import UsageError
from adu_core.options import parse_option_lines, parse_options


def test_values_are_typed_and_trimmed():
    got = parse_options(["a=1", "b = 2.5", "c=true", "d=Off", "e= text ", "f=x=y"], "--source-option")
    assert got == {"a": 1, "b": 2.5, "c": True, "d": False, "e": "text", "f": "x=y"}


def test_lines_skip_blanks_and_comments():
    assert parse_option_lines("# note\n\ninfinity=null\n  arrays = list  \n", "a source option") == {
        "infinity": "null",
        "arrays": "list",
    }


@pytest.mark.parametrize(("pair", "message"), [("novalue", "must look like key=value"), ("=1", "needs a key")])
def test_bad_pairs_are_usage_errors(pair, message):
    with pytest.raises(UsageError, match=message):
        parse_options([pair], "--source-option")
