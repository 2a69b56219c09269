"""adu verify / adu inspect / adu keys generate, through click's CliRunner."""

from __future__ import annotations

import json
import os
import stat

import pytest
from adu_cli.commands import inspect as inspect_cmd
from adu_cli.commands import keys as keys_cmd
from adu_cli.commands import verify as verify_cmd
from adu_export_kit import export_tables, int_table, make_batches
from click.testing import CliRunner


@pytest.fixture
def keypair(tmp_path):
    result = CliRunner().invoke(keys_cmd.group, ["generate", "--out", str(tmp_path / "signer")])
    assert result.exit_code == 0, result.output
    return tmp_path / "signer.key", tmp_path / "signer.pub"


@pytest.fixture
def export(tmp_path, keypair):
    t, u = int_table("public", "items"), int_table("Sales", 'Q1 "Totals"')
    target = tmp_path / "export"
    export_tables(target, [(t, [make_batches(t, 1200)]), (u, [make_batches(u, 30)])], sign_key=str(keypair[0]))
    return target


def test_keys_generate(tmp_path, keypair) -> None:
    priv, pub = keypair
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o600
    assert pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    again = CliRunner().invoke(keys_cmd.group, ["generate", "--out", str(tmp_path / "signer")])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output


def test_verify_ok(export, keypair) -> None:
    result = CliRunner().invoke(verify_cmd.command, [str(export), "--public-key", str(keypair[1])])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ok") and 'Sales.Q1 "Totals"' in lines[0]
    assert lines[1].startswith("ok    public.items: 1 file(s), 1,200 rows")
    assert "valid signature" in result.output and lines[-1].startswith("OK:")


def test_verify_mismatch_names_the_file(export) -> None:
    victim = export / "public/items/part-00000.parquet"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = CliRunner().invoke(verify_cmd.command, [str(export)])
    assert result.exit_code == 1
    assert "FAIL  public.items: public/items/part-00000.parquet: SHA-256 differs" in result.output
    assert result.output.splitlines()[-1].startswith("MISMATCH")


def test_verify_json(export) -> None:
    (export / "extra.bin").write_bytes(b"x")
    result = CliRunner().invoke(verify_cmd.command, [str(export), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and "extra.bin: unexpected file (not in the manifest)" in report["problems"]


def test_verify_not_an_export(tmp_path) -> None:
    result = CliRunner().invoke(verify_cmd.command, [str(tmp_path)])
    assert result.exit_code == 2 and "not an export" in result.output


def test_verify_bad_public_key_is_a_usage_error(export, keypair) -> None:
    result = CliRunner().invoke(verify_cmd.command, [str(export), "--public-key", str(keypair[0])])
    assert result.exit_code == 2 and "not a PEM public key" in result.output


def test_inspect_summary(export) -> None:
    result = CliRunner().invoke(inspect_cmd.command, [str(export)])
    assert result.exit_code == 0, result.output
    assert "public.items" in result.output and "1,200" in result.output
    assert "s3cret" not in result.output and "2 table(s), 1,230 rows" in result.output


def test_inspect_table_shows_schema_and_rows(export) -> None:
    result = CliRunner().invoke(inspect_cmd.command, [str(export), "--table", "public.items", "--limit", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "numeric(12,2)" in out and "decimal128(12, 2)" in out and "CREATE TABLE" in out
    assert "first 3 row(s)" in out and "item 1 ✓" in out and "item 4 ✓" not in out


def test_inspect_awkward_table_name(export) -> None:
    result = CliRunner().invoke(inspect_cmd.command, [str(export), "--table", 'Sales.Q1 "Totals"'])
    assert result.exit_code == 0, result.output
    assert "30 rows" in result.output


def test_inspect_unknown_table_and_not_an_export(export, tmp_path) -> None:
    result = CliRunner().invoke(inspect_cmd.command, [str(export), "--table", "public.nope"])
    assert result.exit_code == 2 and "public.items" in result.output
    result = CliRunner().invoke(inspect_cmd.command, [str(tmp_path)])
    assert result.exit_code == 2 and "not an export" in result.output


def test_inspect_quarantined_rows(tmp_path) -> None:
    import pyarrow as pa
    from adu_core.plugin.components import FAILED_CHECKS_COLUMN

    t = int_table()
    bad = make_batches(t, 4, start=900)[0]
    bad = bad.append_column(FAILED_CHECKS_COLUMN, pa.array([["price <= 5"]] * 4, pa.list_(pa.string())))
    target = tmp_path / "q"
    export_tables(target, [(t, [make_batches(t, 10)])], quarantine={t.qualified_name: [[bad]]})
    result = CliRunner().invoke(inspect_cmd.command, [str(target), "--table", "public.items", "--quarantine"])
    assert result.exit_code == 0, result.output
    assert "quarantined rows: 4 in 1 file(s)" in result.output
    assert "price <= 5" in result.output and "item 901" in result.output
