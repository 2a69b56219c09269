import io
import json
import logging

from adu_core.logs import JsonFormatter, RedactingFilter
from adu_core.secrets import forget_secrets, redact_text, redact_url, remember_secret, with_password
from hypothesis import given, settings
from hypothesis import strategies as st

secret_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=6, max_size=40
).filter(lambda s: s.strip() == s and "***" not in s)


def _logger(stream):
    logger = logging.getLogger(f"adu.test.redact.{id(stream)}")
    logger.handlers.clear()
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger


@settings(max_examples=200)
@given(secret=secret_text, prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_no_remembered_secret_survives_formatting(secret, prefix, suffix):
    forget_secrets()
    remember_secret(secret)
    stream = io.StringIO()
    log = _logger(stream)
    log.info("connecting with %s", prefix + secret + suffix, extra={"detail": f"dsn={secret}"})
    try:
        raise RuntimeError(f"driver said: could not connect {secret}")
    except RuntimeError:
        log.exception("failed: %r", {"password": secret})
    out = stream.getvalue()
    # no value holds the secret (the keys are ADU's own words; a password may be "logger")
    for line in filter(None, out.split("\n")):
        entry = json.loads(line)
        for key, value in entry.items():
            if key not in ("ts", "time", "level"):
                assert secret not in str(value), key
    assert secret not in json.loads(out.split("\n")[0])["message"]
    forget_secrets()


@settings(max_examples=200)
@given(
    password=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=4, max_size=30).filter(
        lambda p: "@" not in p and "/" not in p and "*" not in p
    )
)
def test_url_passwords_are_masked_without_knowing_them(password):
    forget_secrets()
    from urllib.parse import quote

    url = with_password("postgresql://bob@db:5432/prod", password)
    quoted = quote(password, safe="")
    assert f":{quoted}@" in url
    assert f":{quoted}@" not in redact_text(f"error: cannot open {url} now")
    assert "bob:***@db" in redact_text(f"error: cannot open {url} now")
    assert f":{quoted}@" not in redact_url(url)
    assert "bob" in redact_url(url)


def test_key_value_forms_are_masked():
    forget_secrets()
    text = "host=db password=hunter22 user=x; {'token': 'abc123xyz'} api_key=zzz999 PGPASSWORD=qwerty1"
    out = redact_text(text)
    for s in ("hunter22", "abc123xyz", "zzz999", "qwerty1"):
        assert s not in out
    assert "host=db" in out and "user=x" in out


def test_redact_url_keeps_everything_but_the_password():
    assert redact_url("postgresql://u:p%40ss@h:1/db?sslmode=require") == "postgresql://u:***@h:1/db?sslmode=require"
    assert redact_url("postgresql://u:pw@h/db", mask="") == "postgresql://u@h/db"
    assert "pw123" not in redact_url("postgresql:///db?host=/tmp&password=pw123")
