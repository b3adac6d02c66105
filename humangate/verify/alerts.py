"""Telling an app's owner that the conversion monitor paused a number range: a notice in the
console's inbox and the same notice by mail (or SMS) to the owner's first contact."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts._notices import VERIFY_PREFIX_BLOCKED, notice_locale, notice_time
from humangate.accounts._views import contacts
from humangate.accounts.delivery import deliver
from humangate.accounts.outcomes import Outgoing
from humangate.db import inbox as inbox_db
from humangate.db.models import Account
from humangate.messaging import Channels, MessageTemplates
from humangate.verify.apps import AppView
from humangate.verify.guard import Conversion

log = logging.getLogger(__name__)


class PrefixAlerts:
    """The `PrefixAlert` of the verify service: one notice per block."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        templates: MessageTemplates,
        channels: Channels,
        *,
        block_hours: int,
    ) -> None:
        self._sessions = sessions
        self._templates = templates
        self._channels = channels
        self._block_hours = block_hours

    async def __call__(self, app: AppView, prefix: str, conversion: Conversion) -> None:
        log.warning(
            "App %s: codes to %s paused (%d sent, %d approved in the last hour)",
            app.id,
            prefix,
            conversion.sent,
            conversion.approved,
        )
        if app.account_id is None:
            return
        now = datetime.now(UTC)
        params = {
            "app": app.name,
            "prefix": prefix,
            "sent": str(conversion.sent),
            "approved": str(conversion.approved),
            "until": notice_time(now + timedelta(hours=self._block_hours)),
        }
        async with self._sessions() as session:
            account = await session.get(Account, app.account_id)
            if account is None:
                return
            title, body = VERIFY_PREFIX_BLOCKED[notice_locale(account.language)]
            await inbox_db.add_notification(
                session,
                account.id,
                kind="security",
                subject=title.format(**params),
                body=body.format(**params),
                now=now,
            )
            await session.commit()
            found = contacts(account)
            language = account.language
        if found:
            to = found[0]
            await deliver(
                self._templates,
                self._channels,
                [Outgoing(to.channel, to.value, "verify-prefix-blocked", params, language)],
            )
