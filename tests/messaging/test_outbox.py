"""The development outbox: whole lines under concurrency, private files, the reader and the CLI."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from humangate.config import Settings
from humangate.messaging import (
    EmailMessage,
    OutboxMailer,
    OutboxSmsGateway,
    SmsMessage,
    add_outbox_arguments,
    outbox_cli,
    read_outbox,
)
from humangate.messaging.outbox import outbox_path


def _big_text(n: int) -> str:
    # Large, multi-line, non-ASCII bodies: interleaved writes would show as broken JSON.
    return f"message {n}\n" + ('验证码 ☃ "quoted" {braces}\n' * 2000) + f"end {n}"


async def test_concurrent_sends_write_whole_lines(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path, from_address="HumanGate <no-reply@localhost>")
    sms = OutboxSmsGateway(tmp_path, sender="HG")
    sends = [
        mailer.send(EmailMessage(f"u{n}@example.org", f"主题 {n}", _big_text(n), f"<p>{n}</p>"))
        if n % 2
        else sms.send(SmsMessage(f"+1555010{n:04d}", _big_text(n)))
        for n in range(100)
    ]
    ids = await asyncio.gather(*sends)
    lines = outbox_path(tmp_path).read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 101
    records = [json.loads(line) for line in lines[:-1]]
    assert sorted(record["id"] for record in records) == sorted(ids)
    assert len(set(ids)) == 100
    for record in records:
        n = int(record["text"].split()[1])
        assert record["text"] == _big_text(n)
        assert record["channel"] == ("mail" if n % 2 else "sms")
    assert {r["sender"] for r in records} == {"HumanGate <no-reply@localhost>", "HG"}


def test_processes_sharing_the_outbox_do_not_interleave(tmp_path: Path) -> None:
    """Several server workers: flock keeps their lines apart too."""
    script = (
        "import asyncio, sys; from pathlib import Path\n"
        "from humangate.messaging import OutboxSmsGateway, SmsMessage\n"
        "gw = OutboxSmsGateway(Path(sys.argv[1]))\n"
        "text = sys.argv[2] * 30000\n"
        "async def main():\n"
        "    await asyncio.gather(*(gw.send(SmsMessage('+15550100', text)) for _ in range(20)))\n"
        "asyncio.run(main())\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), letter]) for letter in "abc"
    ]
    assert all(worker.wait(timeout=30) == 0 for worker in workers)
    entries = read_outbox(tmp_path, limit=1000)
    assert len(entries) == 60
    assert {entry.text for entry in entries} == {letter * 30000 for letter in "abc"}


async def test_files_are_private(tmp_path: Path) -> None:
    await OutboxSmsGateway(tmp_path).send(SmsMessage("+15550100", "123456"))
    path = outbox_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


async def test_a_loose_existing_file_is_tightened(tmp_path: Path) -> None:
    path = outbox_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("")
    os.chmod(path, 0o644)
    await OutboxSmsGateway(tmp_path).send(SmsMessage("+15550100", "123456"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_reader_returns_the_newest_in_order_and_skips_torn_lines(tmp_path: Path) -> None:
    sms = OutboxSmsGateway(tmp_path)
    for n in range(5):
        await sms.send(SmsMessage("+15550100", f"code {n}"))
    with outbox_path(tmp_path).open("a") as file:
        file.write('{"id": "torn", "chan\n[1, 2]\n')
    await sms.send(SmsMessage("+15550100", "code 5"))
    assert [e.text for e in read_outbox(tmp_path, limit=3)] == ["code 3", "code 4", "code 5"]
    assert len(read_outbox(tmp_path, limit=100)) == 6
    assert read_outbox(tmp_path, limit=0) == []
    assert read_outbox(tmp_path / "nowhere") == []


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="humangate outbox")
    add_outbox_arguments(parser)
    return parser.parse_args(argv)


async def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(data_dir=tmp_path)
    assert outbox_cli(_args(), settings) == 0
    assert "is empty" in capsys.readouterr().err

    await OutboxMailer(tmp_path).send(EmailMessage("ann@example.org", "您的验证码", "码：42\n再见"))
    await OutboxSmsGateway(tmp_path, sender="HG").send(SmsMessage("+8613800138000", "code 7"))

    assert outbox_cli(_args(), settings) == 0
    text = capsys.readouterr().out
    assert "mail  to ann@example.org" in text and "subject: 您的验证码" in text
    assert "    码：42\n    再见" in text
    assert "sms  to +8613800138000  from HG" in text and "    code 7" in text

    assert outbox_cli(_args("--json", "--limit", "1"), settings) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["channel"] == "sms" and entry["text"] == "code 7"
    assert entry["id"].startswith("outbox-") and entry["at"].endswith("Z")


def test_cli_refuses_a_zero_limit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _args("--limit", "0")
    assert "at least 1" in capsys.readouterr().err
