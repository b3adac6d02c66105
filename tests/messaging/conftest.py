"""Fixtures of the message channel tests: a real SMTP server process and a real HTTP gateway."""

from __future__ import annotations

from tests.messaging._gateway import _gateway_server, gateway  # noqa: F401
from tests.messaging._smtp import (  # noqa: F401
    smtp_auth,
    smtp_plain,
    smtp_starttls,
    smtp_tls,
    smtp_tls_files,
)
