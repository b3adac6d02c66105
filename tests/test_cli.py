"""The command line as an operator uses it: real processes on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.live import create_unit_cli, humangate_env, run_cli


def test_unit_create_list_and_rotate(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    keys = create_unit_cli(
        env, "--domain", "Example.ORG", "--domain", "localhost", "--mode", "managed"
    )
    assert set(keys) == {"sitekey", "secret"}
    assert len(keys["secret"]) >= 40

    listed = json.loads(run_cli(env, "unit", "list", "--json").stdout)
    assert listed == [
        {
            "sitekey": keys["sitekey"],
            "name": "live",
            "domains": ["example.org", "localhost"],
            "mode": "managed",
            "kinds": ["slide"],
            "difficulty": 2,
            "pow_difficulty": 50000,
            "disabled": False,
            "hide_mark": False,
            "threshold": None,
            "calibrated_threshold": None,
            "threshold_outdated": False,
            "allow": [],
            "deny": [],
            "good_bots": [],
        }
    ]

    rotated = run_cli(env, "unit", "rotate-secret", keys["sitekey"], "--json")
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)
    assert new["secret"] != keys["secret"] and new["old_secret_valid_hours"] == 24

    dump = "\n".join(sqlite3.connect(tmp_path / "humangate.db").iterdump())
    assert keys["secret"] not in dump and new["secret"] not in dump


def test_bad_arguments_are_refused_cleanly(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    bad_domain = run_cli(env, "unit", "create", "--name", "x", "--domain", "not a domain")
    assert bad_domain.returncode == 2 and "not a valid domain" in bad_domain.stderr
    bad_mode = run_cli(env, "unit", "create", "--name", "x", "--domain", "a.org", "--mode", "loud")
    assert bad_mode.returncode == 2 and "invalid choice" in bad_mode.stderr
    unknown = run_cli(env, "unit", "rotate-secret", "hg-no-such-key")
    assert unknown.returncode == 1 and "no unit" in unknown.stderr
    assert "Traceback" not in bad_domain.stderr + bad_mode.stderr + unknown.stderr
    assert json.loads(run_cli(env, "unit", "list", "--json").stdout) == []


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    for _ in range(2):
        done = run_cli(env, "migrate")
        assert done.returncode == 0, done.stderr
    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "humangate.db").execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"units", "unit_secrets", "alembic_version"} <= tables


def test_production_refuses_a_missing_secret_key(tmp_path: Path) -> None:
    env = humangate_env(tmp_path, environment="production")
    del env["HUMANGATE_SECRET_KEY"]
    done = run_cli(env, "serve")
    assert done.returncode == 2
    assert "HUMANGATE_SECRET_KEY" in done.stderr and "Traceback" not in done.stderr


def test_unit_update_and_show(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    sitekey = create_unit_cli(env, "--domain", "a.org")["sitekey"]
    done = run_cli(
        env,
        "unit",
        "update",
        sitekey,
        "--kind",
        "text",
        "--kind",
        "slide",
        "--difficulty",
        "3",
        "--mode",
        "interactive",
        "--disable",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(run_cli(env, "unit", "show", sitekey, "--json").stdout)
    assert shown["kinds"] == ["slide", "text"]  # kept in order of demand
    assert (shown["difficulty"], shown["mode"], shown["disabled"]) == (3, "interactive", True)
    assert shown["domains"] == ["a.org"] and shown["name"] == "live"  # untouched fields stay

    enabled = json.loads(run_cli(env, "unit", "update", sitekey, "--enable", "--json").stdout)
    assert enabled["disabled"] is False and enabled["kinds"] == ["slide", "text"]


def test_unit_update_refuses_bad_values_and_changes_nothing(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    sitekey = create_unit_cli(env, "--domain", "a.org")["sitekey"]
    before = run_cli(env, "unit", "show", sitekey, "--json").stdout
    for bad in (
        ["--difficulty", "9"],
        ["--kind", "maze"],
        ["--pow-difficulty", "0"],
        ["--domain", "bad domain"],
        ["--name", ""],
    ):
        done = run_cli(env, "unit", "update", sitekey, *bad)
        assert done.returncode == 2, bad
        assert "Traceback" not in done.stderr
    assert run_cli(env, "unit", "show", sitekey, "--json").stdout == before
    missing = run_cli(env, "unit", "update", "hg-none", "--difficulty", "1")
    assert missing.returncode == 1 and "no unit" in missing.stderr


def test_unit_risk_settings(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    keys = create_unit_cli(env, "--domain", "a.org", "--mode", "score", "--threshold", "0.7")
    sitekey = keys["sitekey"]
    changed = run_cli(
        env,
        "unit",
        "update",
        sitekey,
        "--allow",
        "10.1.2.3/8",
        "--allow",
        "2001:db8::/32",
        "--deny",
        "192.0.2.0/24",
        "--good-bot",
        "googlebot",
        "--json",
    )
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(run_cli(env, "unit", "show", sitekey, "--json").stdout)
    assert shown["mode"] == "score" and shown["threshold"] == 0.7
    assert shown["allow"] == ["10.0.0.0/8", "2001:db8::/32"]
    assert shown["deny"] == ["192.0.2.0/24"] and shown["good_bots"] == ["googlebot"]

    cleared = run_cli(env, "unit", "update", sitekey, "--allow", "none", "--good-bot", "none")
    assert cleared.returncode == 0, cleared.stderr
    shown = json.loads(run_cli(env, "unit", "show", sitekey, "--json").stdout)
    assert shown["allow"] == [] and shown["good_bots"] == [] and shown["deny"] == ["192.0.2.0/24"]

    for bad in (
        ["--threshold", "1.5"],
        ["--allow", "10.0.0.300/8"],
        ["--deny", "everyone"],
        ["--good-bot", "evilbot"],
    ):
        refused = run_cli(env, "unit", "update", sitekey, *bad)
        assert refused.returncode == 2, (bad, refused.stdout)
        assert "Traceback" not in refused.stderr and refused.stderr.strip()
    after = json.loads(run_cli(env, "unit", "show", sitekey, "--json").stdout)
    assert after == shown, "a refused update changes nothing"


def _create_admin(env: dict[str, str], email: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humangate", "create-admin", "--email", email],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_admin_reads_the_password_from_stdin(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    password = "operator horse battery staple"
    done = _create_admin(env, "Ops@Example.org", password + "\n")
    assert done.returncode == 0, done.stderr
    assert "administrator Ops@example.org created" in done.stdout
    assert password not in done.stdout + done.stderr
    row = (
        sqlite3.connect(tmp_path / "humangate.db")
        .execute("SELECT email_key, role, status, password_hash FROM accounts")
        .fetchall()
    )
    assert [r[:3] for r in row] == [("ops@example.org", "admin", "active")]
    assert row[0][3].startswith("$argon2id$")

    again = _create_admin(env, "ops@example.org", password + "\n")
    assert again.returncode == 2 and "exists already" in again.stderr
    weak = _create_admin(env, "other@example.org", "short\n")
    assert weak.returncode == 2 and "Traceback" not in weak.stderr
    no_flag = run_cli(env, "create-admin")
    assert no_flag.returncode == 2 and "--email" in no_flag.stderr


def test_every_command_group_registers_its_sub_parser() -> None:
    from humangate.cli import build_parser

    usage = build_parser().format_usage()
    groups = "{serve,migrate,outbox,create-admin,housekeeping,unit,app,account,notice,plan,billing}"
    assert groups in usage
