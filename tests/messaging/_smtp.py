"""A real SMTP server (aiosmtpd) in a child process, for the mail channel's tests.

Run as a script, this file is the server: it binds 127.0.0.1 on a port the kernel picks, prints
`READY <port>`, and saves every accepted message as `<n>.eml` plus `<n>.json` (envelope, login,
whether TLS was on) in a folder. It exits when its stdin closes, so it cannot outlive the test
process, however that ends. Imported, it provides `start_smtp_server` and the fixtures below.

Recipients starting with `reject` are refused with 550, `later` with 450; the refusal text echoes
a marker (`ECHO-…`) so tests can check that server replies never reach our errors.

Fixtures (session scope; tests tell their messages apart by recipient or Message-ID):
    smtp_tls_files   a trustme CA and a certificate for 127.0.0.1/localhost, as files
    smtp_plain       no TLS, no AUTH, SMTPUTF8 (internationalised addresses)
    smtp_auth        no TLS, AUTH required (allowed in plaintext for the test)
    smtp_starttls    STARTTLS required, then AUTH required
    smtp_tls         implicit TLS (smtps), AUTH required
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import selectors
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import pytest

USERNAME = "mailer@example.test"
# Every character that needs percent-encoding in a URL's user info.
PASSWORD = "s3cr%t@p:ss/w#rd?&"
REPLY_MARKER = "ECHO-7f3a"
_START_TIMEOUT = 15.0


# --- the server (child process) -----------------------------------------------------------------


class _SaveHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("reject"):
            return f"550 5.1.1 no such user {address} {REPLY_MARKER}"
        if address.startswith("later"):
            return f"450 4.2.0 mailbox busy {REPLY_MARKER}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        stem = self.folder / f"{os.getpid()}-{self.count:05d}"
        stem.with_suffix(".eml").write_bytes(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": session.auth_data,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }
        # The .json appears last and atomically: a reader that sees it sees the whole message.
        partial = stem.with_suffix(".part")
        partial.write_text(json.dumps(meta))
        partial.rename(stem.with_suffix(".json"))
        return "250 Message accepted"


def _authenticator(username: str, password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == username.encode()
            and data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=username if ok else None)

    return check


def _serve(argv: list[str]) -> None:
    import ssl

    from aiosmtpd.smtp import SMTP

    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--mode", choices=("plain", "starttls", "tls"), default="plain")
    parser.add_argument("--auth", help="USER:PASSWORD required before MAIL")
    parser.add_argument("--cert", help="PEM file with the key and certificate chain")
    args = parser.parse_args(argv)

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert)
    username, _, password = (args.auth or "").partition(":")
    handler = _SaveHandler(args.folder)

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="hg-test-smtp",
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            auth_required=bool(args.auth),
            # aiosmtpd knows only its own STARTTLS; under implicit TLS it must be told.
            auth_require_tls=args.mode == "starttls",
            enable_SMTPUTF8=args.mode == "plain" and not args.auth,
            authenticator=_authenticator(username, password) if args.auth else None,
        )

    loop = asyncio.new_event_loop()
    tls = context if args.mode == "tls" else None
    server = loop.run_until_complete(loop.create_server(protocol, "127.0.0.1", 0, ssl=tls))
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)

    def exit_when_parent_goes() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    loop.run_forever()


# --- the fixtures (test process) ----------------------------------------------------------------


@dataclass
class Received:
    """One message as the server got it."""

    mime: MimeMessage
    mail_from: str
    rcpt_tos: list[str]
    login: str | None
    tls: bool


@dataclass
class SmtpServer:
    """A running test server: where it listens and what it has received."""

    port: int
    folder: Path
    mode: str

    def received(self) -> list[Received]:
        found = []
        for meta_path in sorted(self.folder.glob("*.json")):
            meta = json.loads(meta_path.read_text())
            raw = meta_path.with_suffix(".eml").read_bytes()
            mime = message_from_bytes(raw, policy=policy.default)
            assert isinstance(mime, MimeMessage)
            found.append(Received(mime=mime, **meta))
        return found

    def find(self, message_id: str) -> Received:
        matches = [r for r in self.received() if r.mime["Message-ID"] == message_id]
        assert len(matches) == 1, f"{message_id} received {len(matches)} times"
        return matches[0]


@contextmanager
def start_smtp_server(
    folder: Path, *, mode: str = "plain", auth: bool = False, cert: Path | None = None
) -> Iterator[SmtpServer]:
    """Start the server in a child process; stop it (and wait for it) on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--folder", str(folder), "--mode", mode]
    if auth:
        command += ["--auth", f"{USERNAME}:{PASSWORD}"]
    if cert is not None:
        command += ["--cert", str(cert)]
    log_path = folder.with_name(folder.name + ".log")
    with log_path.open("w") as log:
        # stderr to a file: a pipe nobody reads would fill up and stall the server.
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
    try:
        yield SmtpServer(port=_wait_ready(process, log_path), folder=folder, mode=mode)
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # the server exits on EOF
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _wait_ready(process: subprocess.Popen[str], log_path: Path) -> int:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if selector.select(timeout=_START_TIMEOUT):
            line = process.stdout.readline()
            if line.startswith("READY "):
                return int(line.split()[1])
    process.kill()
    process.wait()
    pytest.fail(f"the test SMTP server did not start:\n{log_path.read_text()}", pytrace=False)


@pytest.fixture(scope="session")
def smtp_tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA (`ca`) and a server certificate with its key (`cert`)."""
    import trustme

    folder = tmp_path_factory.mktemp("smtp-tls")
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    files = {"ca": folder / "ca.pem", "cert": folder / "server.pem"}
    authority.cert_pem.write_to_path(str(files["ca"]))
    issued.private_key_and_cert_chain_pem.write_to_path(str(files["cert"]))
    return files


@pytest.fixture(scope="session")
def smtp_plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with start_smtp_server(tmp_path_factory.mktemp("smtp-plain")) as server:
        yield server


@pytest.fixture(scope="session")
def smtp_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with start_smtp_server(tmp_path_factory.mktemp("smtp-auth"), auth=True) as server:
        yield server


@pytest.fixture(scope="session")
def smtp_starttls(
    tmp_path_factory: pytest.TempPathFactory, smtp_tls_files: dict[str, Path]
) -> Iterator[SmtpServer]:
    folder = tmp_path_factory.mktemp("smtp-starttls")
    cert = smtp_tls_files["cert"]
    with start_smtp_server(folder, mode="starttls", auth=True, cert=cert) as server:
        yield server


@pytest.fixture(scope="session")
def smtp_tls(
    tmp_path_factory: pytest.TempPathFactory, smtp_tls_files: dict[str, Path]
) -> Iterator[SmtpServer]:
    folder = tmp_path_factory.mktemp("smtp-tls-implicit")
    with start_smtp_server(folder, mode="tls", auth=True, cert=smtp_tls_files["cert"]) as server:
        yield server


if __name__ == "__main__":
    _serve(sys.argv[1:])
