"""The signing snippet of docs/verify.md, run as it is written (bash, openssl, curl) against a
live server: a newcomer's first verification, from `humangate app create` to an approved code
read from `humangate outbox`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live import humangate_env, run_cli, running_server

GUIDE = Path(__file__).parents[2] / "docs" / "verify.md"
MARKER = "<!-- signing-snippet:"


def snippet() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    found = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert found is not None, "the signing snippet's block is missing"
    return found.group(1)


def test_the_documented_snippet_starts_and_checks_a_verification(tmp_path: Path) -> None:
    for tool in ("bash", "curl", "openssl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (the test command installs it)")
    env = humangate_env(tmp_path / "data")
    created = run_cli(
        env, "app", "create", "--name", "Shop", "--country", "CN", "--no-require-token", "--json"
    )
    assert created.returncode == 0, created.stderr
    app = json.loads(created.stdout)
    with running_server(env) as server:

        def shell(*lines: str) -> str:
            script = "\n".join(
                [
                    "set -euo pipefail",
                    snippet(),
                    f"HG_URL={server.url}",
                    f"HG_APP_KEY={app['app_key']}",
                    f"HG_APP_SECRET={app['secret']}",
                    *lines,
                ]
            )
            done = subprocess.run(
                ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        body = '{"to": "+8613800138000", "channel": "sms"}'
        started = json.loads(shell(f"hg POST /api/v1/verify/verifications '{body}'"))
        assert started["status"] == "pending", started
        outbox = run_cli(env, "outbox", "--json")
        assert outbox.returncode == 0, outbox.stderr
        (message,) = [
            entry for entry in json.loads(outbox.stdout) if entry["to"] == "+8613800138000"
        ]
        code = re.search(r"(?<!\d)(\d{6})(?!\d)", message["text"])
        assert code is not None, message
        path = f"/api/v1/verify/verifications/{started['id']}"
        checked = json.loads(shell(f"""hg POST {path}/check '{{"code": "{code.group(1)}"}}'"""))
        assert checked["status"] == "approved" and checked["valid"] is True, checked
        fetched = json.loads(shell(f"hg GET {path}"))
        assert fetched["status"] == "approved", fetched
        wrong_secret = json.loads(shell("HG_APP_SECRET=hgas_wrong", f"hg GET {path}"))
        assert wrong_secret["error"] == "bad-signature", wrong_secret
