"""`humangate app …` as an operator runs it: real processes on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.live import create_unit_cli, humangate_env, run_cli, run_cli_here
from tests.test_cli_operator import make_owners, query, run_with_input


def create_app_cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = run_cli(env, "app", "create", "--name", "Shop", "--json", *args)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def show(env: dict[str, str], app_key: str) -> dict[str, Any]:
    done = run_cli(env, "app", "show", app_key, "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_create_takes_every_option_and_shows_the_secret_once(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    sitekey = create_unit_cli(env, "--domain", "a.org")["sitekey"]
    created = create_app_cli(
        env,
        "--channel",
        "sms",
        "--channel",
        "carrier",
        "--country",
        "cn,us",
        "--country",
        "GB",
        "--three-carriers-only",
        "--no-virtual",
        "--code-length",
        "8",
        "--code-ttl",
        "300",
        "--template",
        "en=Your {app} code is {code}",
        "--template",
        "zh-CN=验证码 {code}，{minutes} 分钟内有效",
        "--sitekey",
        sitekey,
        "--daily-cap",
        "50",
        "--destination-daily-cap",
        "3",
        "--prefix-hourly-cap",
        "7",
        "--network-hourly-cap",
        "2",
    )
    secret = created.pop("secret")
    assert secret.startswith("hgas_") and "shown this once" in created.pop("note")
    assert created.pop("created_at")
    app_key = created.pop("app_key")
    assert created == {
        "name": "Shop",
        "account_id": None,
        "channels": ["sms", "carrier"],
        "countries": ["CN", "GB", "US"],
        "three_carriers_only": True,
        "allow_virtual": False,
        "code_length": 8,
        "code_ttl": 300,
        "templates": {
            "en": "Your {app} code is {code}",
            "zh-CN": "验证码 {code}，{minutes} 分钟内有效",
        },
        "require_token": True,
        "sitekey": sitekey,
        "daily_cap": 50,
        "destination_daily_cap": 3,
        "prefix_hourly_cap": 7,
        "network_hourly_cap": 2,
        "disabled": False,
    }
    shown = show(env, app_key)
    assert "secret" not in shown and shown["countries"] == ["CN", "GB", "US"]
    dump = "\n".join(sqlite3.connect(tmp_path / "humangate.db").iterdump())
    assert secret not in dump

    text = run_cli(env, "app", "create", "--name", "Plain")
    assert text.returncode == 0, text.stderr
    assert "hgas_" in text.stdout and "shown this once" in text.stdout


def test_defaults_update_enable_and_disable(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    app_key = create_app_cli(env, "--template", "en=Code {code}")["app_key"]
    before = show(env, app_key)
    assert (before["channels"], before["countries"], before["code_length"]) == (
        ["sms", "email"],
        [],
        6,
    )
    assert before["require_token"] is True and before["allow_virtual"] is True
    done = run_cli(
        env,
        "app",
        "update",
        app_key,
        "--template",
        "zh-CN=验证码 {code}",
        "--country",
        "CN",
        "--no-require-token",
        "--disable",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    after = show(env, app_key)
    assert after["templates"] == {"en": "Code {code}", "zh-CN": "验证码 {code}"}  # merged
    assert (after["countries"], after["require_token"], after["disabled"]) == (["CN"], False, True)
    assert after["name"] == "Shop" and after["channels"] == ["sms", "email"]  # untouched

    run_cli(env, "app", "update", app_key, "--template", "en=", "--enable", "--country", "none")
    again = show(env, app_key)
    assert again["templates"] == {"zh-CN": "验证码 {code}"}  # an empty text removes a locale
    assert again["disabled"] is False and again["countries"] == []

    listed = run_cli(env, "app", "list")
    assert listed.returncode == 0 and app_key in listed.stdout and "enabled" in listed.stdout


BAD_INPUT = [
    (["--code-length", "3"], "code length must be from 4 to 10"),
    (["--code-length", "six"], "invalid int value"),
    (["--code-ttl", "5000"], "A code lives from 60 to 3600 seconds"),
    (["--country", "XX"], "is not a country code"),
    (["--channel", "fax"], "invalid choice"),
    (["--template", "en"], 'A --template is LOCALE="TEXT"'),
    (["--template", "fr=Code {code}"], "Templates exist for en, zh-CN only"),
    (["--template", "en=No code here"], "names {code} once"),
    (["--template", "en={code} {secret}"], "names {code} once"),
    (["--daily-cap", "0"], "daily cap must be from 1"),
    (["--destination-daily-cap", "1000"], "destination daily cap must be from 1 to 100"),
    (["--sitekey", "hg-no-such-unit"], "must be one of your units' site keys"),
    (["--name", " "], "The name must be 1 to 100"),
    (["--sitekey", "x", "--no-sitekey"], "not allowed with argument"),
]


def test_bad_input_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    app_key = create_app_cli(env)["app_key"]
    before = show(env, app_key)
    for args, message in BAD_INPUT:
        for command in (["app", "create", "--name", "Other"], ["app", "update", app_key]):
            done = run_cli_here(env, *command, *args)  # the same main(), many times
            assert done.returncode == 2, (command, args, done.stdout)
            assert message in done.stderr and "Traceback" not in done.stderr, args
    assert show(env, app_key) == before
    assert len(json.loads(run_cli(env, "app", "list", "--json").stdout)) == 1


def test_unknown_apps_and_accounts(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    for command in ("show", "update", "rotate-secret", "delete"):
        done = run_cli(env, "app", command, "hga_no_such_app")
        assert done.returncode == 1, command
        assert "no app has the key 'hga_no_such_app'" in done.stderr
        assert "Traceback" not in done.stderr
    nobody = run_cli(env, "app", "create", "--name", "x", "--account", "nobody@example.org")
    assert nobody.returncode == 2 and "No account has the identifier" in nobody.stderr
    assert "Traceback" not in nobody.stderr
    missing_name = run_cli(env, "app", "create")
    assert missing_name.returncode == 2 and "--name" in missing_name.stderr


def test_an_owner_s_app_and_its_units(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    owner, other = make_owners(tmp_path, "owner@example.org", "other@example.org")
    unit = create_unit_cli(env, "--domain", "a.org")["sitekey"]
    query(tmp_path, "UPDATE units SET account_id = ? WHERE sitekey = ?", other, unit)
    theirs = run_cli(
        env, "app", "create", "--name", "x", "--account", "owner@example.org", "--sitekey", unit
    )
    assert theirs.returncode == 2 and "one of your units' site keys" in theirs.stderr
    query(tmp_path, "UPDATE units SET account_id = ? WHERE sitekey = ?", owner, unit)
    created = create_app_cli(env, "--account", "owner@example.org", "--sitekey", unit)
    assert created["account_id"] == owner and created["sitekey"] == unit
    create_app_cli(env)  # the operator's own
    listed = run_cli(env, "app", "list", "--account", "owner@example.org", "--json")
    mine = json.loads(listed.stdout)
    assert [app["app_key"] for app in mine] == [created["app_key"]]
    assert len(json.loads(run_cli(env, "app", "list", "--json").stdout)) == 2
    done = run_cli(env, "app", "update", created["app_key"], "--no-sitekey", "--json")
    assert json.loads(done.stdout)["sitekey"] is None


def test_rotate_secret_keeps_the_old_one_for_the_grace(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    created = create_app_cli(env)
    app_key = created["app_key"]
    rotated = run_cli(env, "app", "rotate-secret", app_key, "--grace-hours", "2", "--json")
    assert rotated.returncode == 0, rotated.stderr
    data = json.loads(rotated.stdout)
    assert data["secret"].startswith("hgas_") and data["secret"] != created["secret"]
    assert data["old_secret_valid_hours"] == 2 and "shown this once" in data["note"]
    rows = query(tmp_path, "SELECT expires_at FROM verify_app_secrets ORDER BY id")
    assert len(rows) == 2 and rows[0][0] is not None and rows[1][0] is None
    text = run_cli(env, "app", "rotate-secret", created["app_key"])
    assert text.returncode == 0 and "shown this once" in text.stdout
    too_long = run_cli(env, "app", "rotate-secret", created["app_key"], "--grace-hours", "200")
    assert too_long.returncode == 2 and "0 to 168 hours" in too_long.stderr
    assert len(query(tmp_path, "SELECT id FROM verify_app_secrets")) == 3


def test_delete_asks_unless_told_yes(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    app_key = create_app_cli(env)["app_key"]
    refused = run_with_input(env, "hga_wrong\n", "app", "delete", app_key)
    assert refused.returncode == 2 and "nothing was deleted" in refused.stderr
    assert show(env, app_key)["app_key"] == app_key
    typed = run_with_input(env, app_key + "\n", "app", "delete", app_key)
    assert typed.returncode == 0, typed.stderr
    assert query(tmp_path, "SELECT count(*) FROM verify_apps") == [(0,)]
    assert query(tmp_path, "SELECT count(*) FROM verify_app_secrets") == [(0,)]
    second = create_app_cli(env)["app_key"]
    done = run_cli(env, "app", "delete", second, "--yes", "--json")
    assert json.loads(done.stdout) == {"app_key": second, "deleted": True}
    assert json.loads(run_cli(env, "app", "list", "--json").stdout) == []
