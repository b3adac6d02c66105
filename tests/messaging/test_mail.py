"""The SMTP mailer against a real aiosmtpd server: MIME, AUTH, STARTTLS, TLS and every failure."""

from __future__ import annotations

import logging
import socket
import traceback
from pathlib import Path
from urllib.parse import quote

import pytest

from humangate.errors import ConfigError, InvalidInput
from humangate.messaging import DeliveryError, EmailMessage, SmtpMailer, build_mime, parse_smtp_url
from humangate.messaging.mail import SmtpConfig
from tests.messaging._smtp import PASSWORD, REPLY_MARKER, USERNAME, SmtpServer

FROM = "HumanGate 验证 <no-reply@humangate.test>"
SUBJECT = "您的验证码 — HumanGate"
TEXT = "您好！\n\n验证码：314159\n\nÜmlauts, emoji 🔐 and a long line " + "x" * 300
HTML = "<p>您好！验证码：<b>314159</b></p>"


def _url(server: SmtpServer, *, scheme: str = "smtp", auth: bool = True, query: str = "") -> str:
    userinfo = f"{quote(USERNAME, safe='')}:{quote(PASSWORD, safe='')}@" if auth else ""
    return f"{scheme}://{userinfo}127.0.0.1:{server.port}{query}"


def _mailer(url: str, *, ca_file: Path | None = None, timeout: float = 5.0) -> SmtpMailer:
    return SmtpMailer(parse_smtp_url(url, from_address=FROM, timeout=timeout, ca_file=ca_file))


def _assert_secret_free(error: DeliveryError, caplog: pytest.LogCaptureFixture) -> None:
    # The original exception (which may quote the reply) is neither chained nor shown.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    shown = "".join(traceback.format_exception_only(error)) + repr(error) + caplog.text
    for secret in (PASSWORD, quote(PASSWORD, safe=""), REPLY_MARKER):
        assert secret not in shown


# --- settings URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "port", "security"),
    [
        ("smtp://mail.example.org", "mail.example.org", 587, "starttls"),
        ("smtp://mail.example.org:2525?starttls=1", "mail.example.org", 2525, "starttls"),
        ("smtp://localhost?starttls=0", "localhost", 25, "none"),
        ("smtps://mail.example.org", "mail.example.org", 465, "tls"),
        ("SMTPS://[2001:db8::1]:4650", "2001:db8::1", 4650, "tls"),
    ],
)
def test_url_forms(url: str, host: str, port: int, security: str) -> None:
    config = parse_smtp_url(url, from_address=FROM)
    assert (config.host, config.port, config.security) == (host, port, security)
    assert config.username is None and config.password is None


def test_url_credentials_are_percent_decoded_and_hidden() -> None:
    encoded = quote(PASSWORD, safe="")
    config = parse_smtp_url(f"smtps://{quote(USERNAME, safe='')}:{encoded}@h", from_address=FROM)
    assert (config.username, config.password) == (USERNAME, PASSWORD)
    assert PASSWORD not in repr(config) and PASSWORD not in repr(SmtpMailer(config))


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://mail.example.org", "smtp://"),
        ("smtp://user:hunter2@mail.example.org?starttls=0", "without TLS"),
        ("smtp://mail.example.org?starttls=maybe", "starttls must be"),
        ("smtp://mail.example.org?ssl=1", "unknown options"),
        ("smtps://mail.example.org?starttls=1", "implicit TLS"),
        ("smtp://user:hun#ter2@mail.example.org", "percent-encode"),
        ("smtp://user:hunter2@mail.example.org:99999", "not a valid URL"),
        ("smtp://:hunter2@mail.example.org", "no user name"),
    ],
)
def test_bad_urls_are_refused_without_echoing_them(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        parse_smtp_url(url, from_address=FROM)
    assert "hunter2" not in str(caught.value) and "hun#" not in str(caught.value)


@pytest.mark.parametrize("sender", ["", "not an address", "a@b.test\r\nBcc: x@y.test"])
def test_bad_sender_is_refused(sender: str) -> None:
    with pytest.raises(ConfigError, match="HUMANGATE_MAIL_FROM"):
        parse_smtp_url("smtp://mail.example.org", from_address=sender)


def test_plaintext_login_is_allowed_to_loopback_only() -> None:
    config = parse_smtp_url("smtp://u:p@127.0.0.1:25?starttls=0", from_address=FROM)
    assert (config.security, config.username) == ("none", "u")


def test_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    config = parse_smtp_url("smtps://h", from_address=FROM, ca_file=tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="HUMANGATE_SMTP_CA_FILE"):
        SmtpMailer(config)


# --- MIME ---------------------------------------------------------------------------------------


def test_mime_is_utf8_alternative_and_7bit() -> None:
    mime = build_mime(EmailMessage("ann@example.org", SUBJECT, TEXT, HTML), from_address=FROM)
    raw = mime.as_bytes()
    raw.decode("ascii")  # 7-bit: no dependence on the server's 8BITMIME
    assert mime.get_content_type() == "multipart/alternative"
    assert mime["Message-ID"].endswith("@humangate.test>")
    assert mime["Auto-Submitted"] == "auto-generated" and mime["Date"]
    assert b"\r\nSubject: =?utf-8?" in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_text_only_mime_has_one_part() -> None:
    mime = build_mime(EmailMessage("ann@example.org", "Hi", "plain"), from_address=FROM)
    assert mime.get_content_type() == "text/plain" and mime.get_content() == "plain\n"


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("a@b.test\nBcc: c@d.test", "s"),
        ("two@a.test, three@b.test", "s"),
        ("a@b.test", "s\r\nX: y"),
    ],
)
def test_header_injection_is_refused(to: str, subject: str) -> None:
    with pytest.raises(InvalidInput):
        EmailMessage(to=to, subject=subject, text="t")


# --- delivery through the real server -----------------------------------------------------------


async def test_delivers_utf8_text_and_html(smtp_plain: SmtpServer) -> None:
    mailer = _mailer(_url(smtp_plain, auth=False, query="?starttls=0"))
    message_id = await mailer.send(EmailMessage("张三@example.org", SUBJECT, TEXT, HTML))
    received = smtp_plain.find(message_id)
    assert received.mail_from == "no-reply@humangate.test"
    assert received.rcpt_tos == ["张三@example.org"]
    assert received.mime["Subject"] == SUBJECT
    assert received.mime["From"] == FROM
    text = received.mime.get_body(preferencelist=("plain",))
    html = received.mime.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    # The wire uses CRLF line ends; the content is otherwise unchanged.
    assert text.get_content().replace("\r\n", "\n") == TEXT + "\n"
    assert html.get_content().replace("\r\n", "\n") == HTML + "\n"
    assert received.mime["To"] == "张三@example.org"
    assert received.login is None and received.tls is False


async def test_international_address_needs_smtputf8(smtp_auth: SmtpServer) -> None:
    mailer = _mailer(_url(smtp_auth, query="?starttls=0"))
    with pytest.raises(DeliveryError, match="SMTPUTF8") as caught:
        await mailer.send(EmailMessage("张三@example.org", "s", "t"))
    assert caught.value.temporary is False


async def test_plaintext_auth_to_loopback(smtp_auth: SmtpServer) -> None:
    message_id = await _mailer(_url(smtp_auth, query="?starttls=0")).send(
        EmailMessage("ann@example.org", "AUTH", "over plaintext, to 127.0.0.1 only")
    )
    assert smtp_auth.find(message_id).login == USERNAME


async def test_missing_auth_is_refused_by_the_server(
    smtp_auth: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = _mailer(_url(smtp_auth, auth=False, query="?starttls=0"))
    with pytest.raises(DeliveryError, match="requires a login") as caught:
        await mailer.send(EmailMessage("ann@example.org", "no auth", "x"))
    assert caught.value.status == 530 and caught.value.temporary is False


async def test_wrong_password_never_shows_a_password(
    smtp_auth: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = (
        f"smtp://{quote(USERNAME)}:{quote('wrong-' + PASSWORD, safe='')}@127.0.0.1:{smtp_auth.port}"
    )
    with pytest.raises(DeliveryError, match="refused the login") as caught:
        await _mailer(url + "?starttls=0").send(EmailMessage("ann@example.org", "s", "t"))
    assert caught.value.status == 535 and caught.value.temporary is False
    assert caught.value.channel == "mail"
    _assert_secret_free(caught.value, caplog)
    assert "wrong-" not in caplog.text and "wrong-" not in str(caught.value)


@pytest.mark.parametrize(
    ("local_part", "status", "temporary"), [("reject", 550, False), ("later", 450, True)]
)
async def test_refused_recipient_hides_the_reply_text(
    smtp_auth: SmtpServer,
    caplog: pytest.LogCaptureFixture,
    local_part: str,
    status: int,
    temporary: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    mailer = _mailer(_url(smtp_auth, query="?starttls=0"))
    with pytest.raises(DeliveryError, match="refused the recipient") as caught:
        await mailer.send(EmailMessage(f"{local_part}@example.org", "s", "t"))
    assert (caught.value.status, caught.value.temporary) == (status, temporary)
    _assert_secret_free(caught.value, caplog)


async def test_starttls_then_auth(
    smtp_starttls: SmtpServer, smtp_tls_files: dict[str, Path]
) -> None:
    mailer = _mailer(_url(smtp_starttls), ca_file=smtp_tls_files["ca"])
    message_id = await mailer.send(EmailMessage("ann@example.org", SUBJECT, TEXT, HTML))
    received = smtp_starttls.find(message_id)
    assert received.tls is True and received.login == USERNAME
    assert received.mime["Subject"] == SUBJECT


async def test_implicit_tls(smtp_tls: SmtpServer, smtp_tls_files: dict[str, Path]) -> None:
    mailer = _mailer(_url(smtp_tls, scheme="smtps"), ca_file=smtp_tls_files["ca"])
    message_id = await mailer.send(EmailMessage("ann@example.org", "smtps", "implicit TLS"))
    received = smtp_tls.find(message_id)
    assert received.tls is True and received.login == USERNAME


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
async def test_untrusted_certificate_is_refused(
    smtp_starttls: SmtpServer, smtp_tls: SmtpServer, scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_starttls if scheme == "smtp" else smtp_tls
    with pytest.raises(DeliveryError, match="TLS handshake failed") as caught:
        await _mailer(_url(server, scheme=scheme)).send(EmailMessage("ann@example.org", "s", "t"))
    assert caught.value.temporary is False
    _assert_secret_free(caught.value, caplog)


async def test_starttls_is_required_not_opportunistic(
    smtp_auth: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A server (or a man in the middle) that hides STARTTLS gets no password in plaintext."""
    with pytest.raises(DeliveryError, match="lacks a needed feature: SMTP STARTTLS") as caught:
        await _mailer(_url(smtp_auth)).send(EmailMessage("ann@example.org", "s", "t"))
    assert caught.value.temporary is False
    _assert_secret_free(caught.value, caplog)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_server_down(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"smtp://{quote(USERNAME)}:{quote(PASSWORD, safe='')}@127.0.0.1:{_closed_port()}"
    with pytest.raises(DeliveryError, match="could not connect") as caught:
        await _mailer(url + "?starttls=0").send(EmailMessage("ann@example.org", "s", "t"))
    assert caught.value.temporary is True and caught.value.status is None
    assert f"127.0.0.1:{url.rsplit(':', 1)[1]}" in str(caught.value)
    _assert_secret_free(caught.value, caplog)
    assert "Mail to the SMTP server" in caplog.text  # logged once, safely


async def test_silent_server_times_out(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections (backlog) but never greets
        url = f"smtp://127.0.0.1:{silent.getsockname()[1]}?starttls=0"
        with pytest.raises(DeliveryError, match="did not answer within 0.3 s") as caught:
            await _mailer(url, timeout=0.3).send(EmailMessage("ann@example.org", "s", "t"))
    assert caught.value.temporary is True


def test_config_server_brackets_ipv6() -> None:
    config = SmtpConfig(host="::1", port=25, security="none", from_address=FROM)
    assert config.server == "[::1]:25"
