"""Every yes/no variable is read one way: 1/0, true/false, yes/no, on/off; anything else
is one clear line naming the variable."""

from __future__ import annotations

import pytest
from adu_core import config
from adu_core.errors import UsageError
from adu_core.services.formatting import human_bytes, human_duration
from click.testing import CliRunner


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("on", True),
        ("YES", True),
        (" 1 ", True),
        ("true", True),
        ("off", False),
        ("No", False),
        ("0", False),
        ("false", False),
        ("", False),
        (None, False),
    ],
)
def test_flag_spellings(raw: str | None, expected: bool) -> None:
    env = {} if raw is None else {"ADU_LOG_STDOUT": raw}
    assert config.flag(env, "ADU_LOG_STDOUT") is expected


def test_log_stdout_and_secure_cookies_agree(tmp_path) -> None:
    from adu_web import create_app

    env = {"ADU_DATA_DIR": str(tmp_path), "ADU_ENV": "test", "ADU_LOG_STDOUT": "on", "ADU_SECURE_COOKIES": "on"}
    assert config.load(env).log_stdout is True
    assert create_app(config.load(env), env=env).config["SESSION_COOKIE_SECURE"] is True
    env.update(ADU_LOG_STDOUT="off", ADU_SECURE_COOKIES="off")
    assert config.load(env).log_stdout is False
    assert create_app(config.load(env), env=env).config["SESSION_COOKIE_SECURE"] is False


def test_other_values_are_one_line_errors(tmp_path) -> None:
    with pytest.raises(UsageError, match=r"ADU_LOG_STDOUT must be 1/0, true/false, yes/no or on/off, not 'maybe'"):
        config.load({"ADU_DATA_DIR": str(tmp_path), "ADU_LOG_STDOUT": "maybe"})
    from adu_cli.main import cli

    result = CliRunner().invoke(cli, ["jobs", "list"], env={"ADU_DATA_DIR": str(tmp_path), "ADU_LOG_STDOUT": "y"})
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "adu: error: ADU_LOG_STDOUT must be 1/0, true/false, yes/no or on/off, not 'y'"
    ]


def test_sizes_and_durations_one_way() -> None:
    assert [human_bytes(n) for n in (None, 512, 1536, 5 * 1024**3, 3 * 1024**5)] == [
        "-",
        "512 B",
        "1.5 KB",
        "5.0 GB",
        "3072.0 TB",
    ]
    assert [human_duration(s) for s in (None, 4.24, 185, 7620)] == ["-", "4.2 s", "3 min 05 s", "2 h 07 min"]
    assert human_bytes(None, missing="\u2013") == "\u2013"
