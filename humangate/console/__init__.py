"""The console: server-rendered pages for account owners and operators, under /console.

`install(app)` mounts every page module on the app; `web` holds the shared plumbing.
"""

from __future__ import annotations

from fastapi import FastAPI

from humangate.console import (
    account,
    admin,
    admin_billing,
    apps,
    auth,
    billing,
    blocked,
    inbox,
    notices,
    passkeys,
    recovery,
    sessions,
    stats,
    terms,
    units,
    web,
)

# Importing the page modules registers their routes on web.router.
PAGES = (
    auth,
    account,
    inbox,
    sessions,
    passkeys,
    recovery,
    terms,
    units,
    apps,
    stats,
    billing,
    admin,
    admin_billing,
    notices,
    blocked,
)


def install(app: FastAPI) -> None:
    """Mount the console's pages and error handlers on `app`."""
    web.install(app)


__all__ = ["install"]
